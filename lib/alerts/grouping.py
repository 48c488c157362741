"""One notification per incident, not one per alert: group the alerts of a cascade.

Call ``group_alerts`` once per bucket, with that bucket's alert events (``alert_events``
turns transitions into them; an empty list is fine), the groups it returned last time and
the topology.

Joining. A fired alert joins an open group when its server is *related* to one of the
group's servers — the same server, or one upstream of the other through ``depends_on`` (a
db fault reaches the api and web servers that call it) — and the group saw a fired or
escalated alert within ``horizon_buckets``. Otherwise it opens a new group. An alert
related to several groups merges them into the oldest: two web servers that share an api
open two groups until the api (or the db behind it) alerts too and joins them into one.

Notifying. A new group waits ``group_wait_buckets`` for related alerts — a dependant's
detector often fires a bucket before its dependency's — then notifies once ("opened"),
however many alerts it holds. It notifies again only when its level rises above the level
it last notified ("escalated"). When its last open alert resolves it closes with an ``info``
notification ("resolved"); a group that closes before its first notification says nothing.
Escalations of acknowledged alerts are silent and never reach here.

The probable root of a group is the server whose anomaly started earliest (its members'
earliest onset bucket); ties go to the most upstream one, the one the most other group
servers depend on, then to the lowest index. Summaries name the other servers in onset order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lib.alerts.groups import AlertEvent, AlertGroup, GroupMember, Notification
from lib.alerts.ids import group_id
from lib.alerts.levels import Level
from lib.alerts.summary import Reason, group_summary
from lib.analysis.topology import upstream_of
from lib.errors import ValidationError


@dataclass(frozen=True)
class GroupingParams:
    """Joining horizon and first-notification wait, in buckets."""

    horizon_buckets: int = 100
    group_wait_buckets: int = 2

    def __post_init__(self) -> None:
        if self.horizon_buckets < 0 or self.group_wait_buckets < 0:
            raise ValidationError("grouping durations must be >= 0", field="horizon_buckets")


DEFAULT_GROUPING = GroupingParams()


@dataclass(frozen=True)
class Grouping:
    """The outcome of one bucket.

    ``groups`` are the groups still open; ``notifications`` what to tell operators;
    ``merged`` the (absorbed id, surviving id) pairs of groups merged in this bucket.
    """

    groups: tuple[AlertGroup, ...]
    notifications: tuple[Notification, ...]
    merged: tuple[tuple[str, str], ...] = ()


@dataclass
class _Draft:
    """A group being updated within one call."""

    id: str
    opened_bucket: int
    last_bucket: int
    notified_level: Level | None
    members: dict[tuple[int, str], GroupMember] = field(default_factory=dict)

    def is_open(self) -> bool:
        return any(m.open for m in self.members.values())

    def absorb(self, other: _Draft) -> None:
        for key, member in other.members.items():
            if member.open or key not in self.members:
                self.members[key] = member
        self.opened_bucket = min(self.opened_bucket, other.opened_bucket)
        self.last_bucket = max(self.last_bucket, other.last_bucket)
        told = [lvl for lvl in (self.notified_level, other.notified_level) if lvl is not None]
        self.notified_level = max(told, default=None)


class _Relations:
    """Which servers are related (one upstream of the other) among those involved."""

    def __init__(self, depends_on: Sequence[Sequence[int]], servers: Iterable[int]) -> None:
        involved = sorted(set(servers))
        self._row = {s: i for i, s in enumerate(involved)}
        self._reach = upstream_of(depends_on, np.asarray(involved, dtype=np.int64))

    def upstream(self, server: int, of: int) -> bool:
        """``server`` is ``of`` or one of its transitive dependencies."""
        return bool(self._reach[self._row[of], server])

    def related(self, a: int, b: int) -> bool:
        return self.upstream(a, b) or self.upstream(b, a)


def _root(members: Iterable[GroupMember], relations: _Relations) -> int:
    onset: dict[int, int] = {}
    for m in members:
        onset[m.server] = min(onset.get(m.server, m.onset_bucket), m.onset_bucket)
    servers = sorted(onset)

    def key(s: int) -> tuple[int, int, int]:
        dependants = sum(relations.upstream(s, of=o) for o in servers if o != s)
        return onset[s], -dependants, s

    return min(servers, key=key)


def _notify(
    draft: _Draft, root: int, reason: Reason, level: Level, bucket: int, server_ids: Sequence[str]
) -> Notification:
    members = sorted(draft.members.values(), key=lambda m: (m.onset_bucket, m.server, m.metric))
    root_metrics = [m.metric for m in members if m.server == root]
    in_onset_order = list(dict.fromkeys(m.server for m in members))
    affected = [server_ids[s] for s in in_onset_order if s != root]
    shown = max(m.level for m in members)
    en, ko = group_summary(server_ids[root], root_metrics, affected, shown, reason)
    return Notification(
        group_id=draft.id,
        reason=reason,
        level=level,
        bucket=bucket,
        root=root,
        servers=tuple(sorted(in_onset_order)),
        metrics=tuple(sorted({m.metric for m in members})),
        summary_en=en,
        summary_ko=ko,
    )


def group_alerts(
    events: Sequence[AlertEvent],
    open_groups: Sequence[AlertGroup],
    depends_on: Sequence[Sequence[int]],
    server_ids: Sequence[str],
    bucket: int,
    params: GroupingParams = DEFAULT_GROUPING,
) -> Grouping:
    """Fold one bucket's alert events into the open groups and say what to notify.

    Parameters
    ----------
    events : AlertEvent sequence
        The bucket's events, any order (may be empty: waiting groups still come due).
    open_groups : AlertGroup sequence
        Groups returned by the previous call (``Grouping.groups``).
    depends_on : sequence of N sequences of int
        For server ``i``, the servers it depends on.
    server_ids : N strings
        Server names, for group ids and summaries.
    bucket : int
        The bucket being processed.
    params : GroupingParams
        Joining horizon and first-notification wait.

    Returns
    -------
    Grouping
        Everything in a deterministic order. Filter the notifications with
        ``notifiable(..., settings.notify_min_level)``.
    """
    if len(server_ids) != len(depends_on):
        raise ValidationError(
            f"{len(server_ids)} server ids for {len(depends_on)} servers", field="server_ids"
        )
    drafts = [
        _Draft(
            id=g.id,
            opened_bucket=g.opened_bucket,
            last_bucket=g.last_bucket,
            notified_level=g.notified_level,
            members={(m.server, m.metric): m for m in g.members},
        )
        for g in open_groups
    ]
    relations = _Relations(
        depends_on,
        [e.server for e in events] + [m.server for g in open_groups for m in g.members],
    )
    touched: set[str] = set()
    merged: list[tuple[str, str]] = []

    def holding(server: int, metric: str) -> _Draft | None:
        return next((d for d in drafts if (m := d.members.get((server, metric))) and m.open), None)

    def joinable(e: AlertEvent) -> list[_Draft]:
        return sorted(
            (
                d
                for d in drafts
                if d.is_open()
                and e.bucket - d.last_bucket <= params.horizon_buckets
                and any(relations.related(e.server, s) for s, _ in d.members)
            ),
            key=lambda d: (d.opened_bucket, d.id),
        )

    order = sorted(events, key=lambda e: (e.onset_bucket, e.bucket, e.server, e.metric))
    for e in (e for e in order if e.kind != "resolved"):
        draft = holding(e.server, e.metric) if e.kind == "escalated" else None
        if draft is None:
            candidates = joinable(e)
            if candidates:
                draft, *others = candidates
                for other in others:
                    draft.absorb(other)
                    drafts.remove(other)
                    merged.append((other.id, draft.id))
            else:
                draft = _Draft(
                    id=group_id(server_ids[e.server], bucket),
                    opened_bucket=bucket,
                    last_bucket=bucket,
                    notified_level=None,
                )
                drafts.append(draft)
        previous = draft.members.get((e.server, e.metric))
        level = max(e.level, previous.level) if previous and previous.open else e.level
        draft.members[(e.server, e.metric)] = GroupMember(
            server=e.server,
            metric=e.metric,
            level=level,
            onset_bucket=e.onset_bucket,
            fired_bucket=e.fired_bucket,
            open=True,
        )
        draft.last_bucket = max(draft.last_bucket, e.bucket)
        touched.add(draft.id)
    for e in (e for e in order if e.kind == "resolved"):
        if (draft := holding(e.server, e.metric)) is not None:
            key = (e.server, e.metric)
            draft.members[key] = replace(draft.members[key], open=False)
            touched.add(draft.id)

    notifications = []
    kept = []
    for draft in drafts:
        root = _root(draft.members.values(), relations)
        level = max(m.level for m in draft.members.values())
        if not draft.is_open():
            if draft.notified_level is not None and draft.id in touched:
                notifications.append(
                    _notify(draft, root, "resolved", Level.INFO, bucket, server_ids)
                )
            continue
        if draft.notified_level is None:
            if bucket - draft.opened_bucket >= params.group_wait_buckets:
                notifications.append(_notify(draft, root, "opened", level, bucket, server_ids))
                draft.notified_level = level
        elif level > draft.notified_level:
            notifications.append(_notify(draft, root, "escalated", level, bucket, server_ids))
            draft.notified_level = level
        kept.append(
            AlertGroup(
                id=draft.id,
                root=root,
                members=tuple(sorted(draft.members.values(), key=lambda m: (m.server, m.metric))),
                opened_bucket=draft.opened_bucket,
                last_bucket=draft.last_bucket,
                notified_level=draft.notified_level,
            )
        )
    return Grouping(groups=tuple(kept), notifications=tuple(notifications), merged=tuple(merged))
