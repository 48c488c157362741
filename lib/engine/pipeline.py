"""The per-bucket pipeline: detect → alert transitions → grouping → diagnosis → incidents
and recovery decisions, for a range of buckets. ``Engine`` (``lib.engine.core``) runs it
inside its lock and writes what it produced; nothing here touches the KV or the store.

Incidents come from diagnosis (``lib.diagnose``) of each alert group, when it opens and
again every ``RECHECK_BUCKETS`` while it stays open: a benign group stays a group, a group
hiding two failures becomes two incidents. The simulator's truth is read only by the world
model (``lib.engine.world``) to apply an action and to label the scenario for display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from lib.alerts import AlertGroup, Notification, alert_events, group_alerts, step_many
from lib.diagnose import UNKNOWN, Diagnosis, Hypothesis, diagnose
from lib.engine.alert_links import alert_links
from lib.engine.detection import Scorer, alert_levels, detect
from lib.engine.incidents import (
    apply_step,
    attached,
    closing,
    covered,
    effect_bucket,
    failed_mask,
    joinable,
    joined,
    new_track,
    recent,
    reopenable,
    reopened,
    revised,
    with_new_logs,
)
from lib.engine.observe import observe
from lib.engine.records import Event, alert_writes, incident_event, incident_record
from lib.engine.recovery import plan_recovery, strategies_for
from lib.engine.trends import EVERY, climbing, climbs, in_context
from lib.engine.world import EngineState, IncidentTrack, World, fix_outcome, scenario_of
from lib.runtime_settings import RuntimeSettings
from lib.sim import METRICS, SERVER_STATUSES, Fleet, Overrides

if TYPE_CHECKING:
    from pydantic import BaseModel

OFFLINE = SERVER_STATUSES.index("offline")
RECHECK_BUCKETS = 20
"""An open group is diagnosed again this often (a minute at 3 s): slow failures show late."""
EARLY_RECHECK = (60, 4)
"""In its first 60 buckets a group is diagnosed every 4: a ramp becomes clear within it."""


@dataclass(frozen=True)
class Context:
    """What stays the same from call to call."""

    fleet: Fleet
    depends_on: tuple[tuple[int, ...], ...]
    scorer: Scorer
    seed: int

    @property
    def regions(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.fleet.region)


@dataclass
class Span:
    """One call's detailed range ``c0 .. b1 - 1`` and the world in force.

    ``recovered`` grows with the world changes decided along the way (simulated failure or
    incident id → the bucket it ends), which the caller then saves.
    """

    c0: int
    b1: int
    overrides: Overrides
    recovered: dict[str, int]
    runtime: RuntimeSettings
    world: World


@dataclass
class Batch:
    """What processing a bucket range produced, to be written at the end."""

    writes: list[tuple[str, list[BaseModel]]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    recovered: dict[str, int] = field(default_factory=dict)
    fired: int = 0
    detected: int = 0

    def write(self, op: str, records: list[BaseModel]) -> None:
        if records:
            self.writes.append((op, records))


def process(ctx: Context, state: EngineState, span: Span, batch: Batch) -> EngineState:
    """Detailed processing of ``span``, in chunks cut at each decision.

    A recovery decision changes the simulated world from the bucket it takes effect, so
    the chunk stops there and the rest is recomputed with the decision in force.
    """
    fleet = ctx.fleet
    book, groups = state.book, state.groups
    tracks = {t.id: t for t in state.incidents}
    closed = {t.id: t for t in state.closed}
    c0, b1, recovered = span.c0, span.b1, span.recovered
    while c0 < b1:
        world_now = replace(span.overrides, recovered_at=dict(recovered))
        det = detect(fleet, world_now, c0, b1, scorer=ctx.scorer)
        offline = np.repeat(det.status == OFFLINE, len(METRICS), axis=1)
        failed = failed_mask(tracks, recovered, fleet.size, c0, b1)
        levels = alert_levels(det)
        stepped, transitions = step_many(
            book, det.score, levels, c0, offline=offline, recovery_failed=failed
        )
        by_bucket: dict[int, list] = {}
        for t in transitions:
            by_bucket.setdefault(t.bucket, []).append(t)
        cut = b1
        b = c0
        while b < cut:
            here = by_bucket.get(b, [])
            known = {(g, t.id) for t in tracks.values() for g in t.groups}
            inserts, changes, events = alert_writes(fleet, det, here)
            batch.write("insert_alerts", inserts)  # type: ignore[arg-type]
            batch.write("update_alert_states", changes)  # type: ignore[arg-type]
            batch.events.extend(events)
            batch.fired += len(inserts)
            grouping = group_alerts(
                alert_events(here, METRICS), groups, ctx.depends_on, fleet.ids, b
            )
            groups = grouping.groups
            for absorbed, survivor in grouping.merged:
                tracks = {k: _regroup(t, absorbed, survivor) for k, t in tracks.items()}
            batch.notifications.extend(grouping.notifications)
            for note in grouping.notifications:
                batch.events.append(Event("alert", b, notification_data(fleet, note)))
            opened = {n.group_id for n in grouping.notifications if n.reason == "opened"}
            due = [g for g in groups if _due(g, opened, b)]
            if b % EVERY == 0:
                trending = [in_context(g, groups) for g in climbing(fleet, world_now, b)]
                tracks = _refresh(tracks, trending)
                due += trending
            for group in due:
                opened_here = _incidents_of(ctx, group, b, world_now, tracks, closed, span, batch)
                for track in opened_here:
                    # The decision changes the world (or the alert levels) from the bucket it
                    # takes effect: stop this chunk there and recompute the rest with it.
                    effect = effect_bucket(track)
                    if effect is not None:
                        cut = min(cut, max(effect, b + 1))
            tracks = _run_plans(fleet, tracks, b, batch)
            # A group that joined an incident, including one that already had another
            # (a second failure found in it): its alerts are linked again.
            joined = {g for t in tracks.values() for g in t.groups if (g, t.id) not in known}
            fresh = joined | {survivor for _, survivor in grouping.merged}
            links = alert_links(fleet, groups, tracks, b, fresh)
            batch.write("update_alert_states", links)  # type: ignore[arg-type]
            tracks, ended = _close_finished(
                fleet, tracks, {g.id for g in groups}, b, batch, span.world
            )
            closed |= ended
            b += 1
        if cut < b1:
            stepped, _ = step_many(
                book,
                det.score[: cut - c0],
                levels[: cut - c0],
                c0,
                offline=offline[: cut - c0],
                recovery_failed=failed[: cut - c0],
            )
        book = stepped
        c0 = cut
    return EngineState(
        last=b1 - 1,
        book=book,
        groups=groups,
        incidents=tuple(tracks.values()),
        retention_day=state.retention_day,
        closed=tuple(recent(closed, b1 - 1).values()),
    )


def _refresh(
    tracks: dict[str, IncidentTrack], trending: list[AlertGroup]
) -> dict[str, IncidentTrack]:
    """A climb still going on keeps the incident it opened open."""
    ids = {g.id for g in trending}
    return {
        k: t if not ids & set(t.groups) or t.quiet_since is None else replace(t, quiet_since=None)
        for k, t in tracks.items()
    }


def _regroup(t: IncidentTrack, absorbed: str, survivor: str) -> IncidentTrack:
    if absorbed not in t.groups:
        return t
    groups = tuple(dict.fromkeys(survivor if g == absorbed else g for g in t.groups))
    return replace(t, group_id=survivor if t.group_id == absorbed else t.group_id, groups=groups)


def _due(group: AlertGroup, opened: set[str], bucket: int) -> bool:
    """Diagnose a group a bucket after it opens (a sudden failure is clear by then; the
    notification waits longer for the rest of the cascade), when it notifies, then every
    ``EARLY_RECHECK`` and ``RECHECK_BUCKETS``."""
    age = bucket - group.opened_bucket
    if group.id in opened or age == 1:
        return True
    every = EARLY_RECHECK[1] if age <= EARLY_RECHECK[0] else RECHECK_BUCKETS
    return group.notified_level is not None and age > 0 and age % every == 0


def _incidents_of(
    ctx: Context,
    group: AlertGroup,
    bucket: int,
    overrides: Overrides,
    tracks: dict[str, IncidentTrack],
    closed: dict[str, IncidentTrack],
    span: Span,
    batch: Batch,
) -> list[IncidentTrack]:
    """Diagnose ``group`` and open (or grow, or reopen) an incident per failure not yet
    accounted for.

    Returns the new tracks, whose plans may change the world.
    """
    fleet = ctx.fleet
    seen = covered(tracks, group.id)
    opened = []
    observed = observe(fleet, group, bucket, overrides, ctx.depends_on, climbs(group))
    for d in diagnose(observed):
        owner = owner_of(tracks, d)
        if owner is not None and (
            not d.is_incident or d.type in (owner.type, UNKNOWN) or d.root == owner.root
        ):
            # Its root already belongs to an open incident and shows nothing else: the same
            # failure alerting again, perhaps now clearly another type than first read. A
            # different failure on a server that an incident reaches (a DNS failure on a web
            # server behind a dark balancer) is its own.
            retyped = revised(owner, d, bucket, fleet.ids)
            grown = with_new_logs(retyped, d, fleet.ids)
            if grown is not owner:
                batch.write("upsert_incidents", [incident_record(fleet, grown)])
            if retyped is not owner:
                batch.events.append(incident_event(fleet, grown, bucket, "revised"))
            tracks[owner.id] = attached(grown, group.id)
            seen |= set(owner.servers)
            continue
        if not d.is_incident:
            continue
        if d.type == UNKNOWN and seen:
            continue  # what is left of a group already handled: not a failure of its own
        back = reopenable(closed, d, bucket)
        if back is not None:
            del closed[back.id]
            track = reopened(back, group.id, bucket, fleet.ids)
            tracks[track.id] = track
            seen |= set(track.servers)
            _tell(batch, fleet, track, bucket, "reopened")
            continue
        same = joinable(tracks, d, ctx.regions)
        if same is not None:
            grown = joined(same, d, group.id, bucket, fleet.ids)
            tracks[grown.id] = grown
            _tell(batch, fleet, grown, bucket, "joined")
            seen |= set(d.affected)
            continue
        track, changes = _open(ctx, d, group.id, bucket, overrides, span.runtime)
        for key, at in changes.items():
            span.recovered[key] = batch.recovered[key] = min(at, span.recovered.get(key, at))
        tracks[track.id] = track
        seen |= set(track.servers)
        batch.detected += 1
        _tell(batch, fleet, track, bucket, "detected")
        opened.append(track)
    return opened


def owner_of(tracks: Mapping[str, IncidentTrack], d: Diagnosis) -> IncidentTrack | None:
    """The open incident that ``d``'s root belongs to: the one rooted there first, then one
    of the same type, then any that reaches it (a caller of a failing server)."""
    owners = [t for t in tracks.values() if d.root in t.servers]
    return min(owners, key=lambda t: (t.root != d.root, t.type != d.type), default=None)


def _open(
    ctx: Context,
    d: Diagnosis,
    group_id: str,
    bucket: int,
    overrides: Overrides,
    runtime: RuntimeSettings,
) -> tuple[IncidentTrack, dict[str, int]]:
    """A new incident with its recovery plan, and the world changes that plan makes."""
    fleet = ctx.fleet
    track = new_track(d, group_id, bucket, fleet.ids)
    # The scenario is a label for the demo and the evaluation: nothing below reads it.
    track = replace(track, scenario=scenario_of(fleet, overrides, track.servers, bucket))
    if not runtime.auto_recovery:
        return track, {}

    def outcome(strategy: str, attempt: int, at: int) -> tuple[str, ...]:
        return fix_outcome(
            fleet,
            overrides,
            strategy=strategy,
            servers=track.servers,
            bucket=at,
            attempt=attempt,
            seed=ctx.seed,
            success_rate=runtime.recovery_success_rate,
        )

    hypotheses = tuple(Hypothesis(h["type"], h["score"]) for h in track.diagnosis["hypotheses"])
    return plan_recovery(
        track,
        strategies_for(d.type, hypotheses, track.diagnosis["confidence"]),
        bucket_seconds=fleet.bucket_seconds,
        outcome=outcome,
    )


def _run_plans(
    fleet: Fleet, tracks: dict[str, IncidentTrack], bucket: int, batch: Batch
) -> dict[str, IncidentTrack]:
    out = {}
    for key, t in tracks.items():
        for _, event, reason in [p for p in t.plan if p[0] == bucket]:
            t = apply_step(t, bucket, event, reason)
            _tell(batch, fleet, t, bucket, event)
        out[key] = t
    return out


def _close_finished(
    fleet: Fleet,
    tracks: dict[str, IncidentTrack],
    open_groups: set[str],
    bucket: int,
    batch: Batch,
    world: World,
) -> tuple[dict[str, IncidentTrack], dict[str, IncidentTrack]]:
    """An incident whose alerts have all cleared is over: the tracks still open, and those
    that closed (``recent`` keeps the ones that may reopen)."""
    out, ended = {}, {}
    for key, t in tracks.items():
        closed = closing(t, open_groups, bucket, world.resolved_by)
        if closed.resolved_by is None:
            out[key] = closed
            continue
        ended[key] = closed
        _tell(batch, fleet, closed, bucket, "closed")
    return out, ended


def _tell(batch: Batch, fleet: Fleet, t: IncidentTrack, bucket: int, change: str) -> None:
    """Store ``t`` as it now stands and tell what changed."""
    batch.write("upsert_incidents", [incident_record(fleet, t)])
    batch.events.append(incident_event(fleet, t, bucket, change))


def notification_data(fleet: Fleet, note: Notification) -> dict[str, object]:
    """A grouped notification as a stream event's data."""
    return {
        "kind": "notification",
        "group_id": note.group_id,
        "reason": note.reason,
        "level": note.level.label,
        "root_server": fleet.ids[note.root],
        "servers": [fleet.ids[s] for s in note.servers],
        "metrics": list(note.metrics),
        "summary_en": note.summary_en,
        "summary_ko": note.summary_ko,
    }
