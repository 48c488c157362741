"""What one advance of the engine has to tell subscribers, as ``Notice`` values (pure).

Two sources: the alert groups' notifications (``lib.alerts.Notification``) and the incident
transitions among the advance's stream events (``incident`` events: detected, recovery_started,
recovered, recovery_failed, closed). A group that opens in the bucket its incident is detected
belongs to that incident from then on: the incident is told through its own transitions (its
opening with the diagnosis, recovery attempted, recovered, escalated, resolved), and the
group's own escalations and resolution are not told again. Groups with no incident behind
them (false alerts) are told as alerts.

Every notice has a deterministic ``key``, so the engine redoing a range after a crash records
the same notices again instead of new ones, and a ``subject`` (the incident or the alert group)
that later notices about the same thing share: it becomes the notification's ``tag`` and the
push ``Topic``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from lib.alerts import Level, parse_level
from lib.sim import FAILURE_TYPES, REGIONS, ROLES

if TYPE_CHECKING:
    from lib.alerts import Notification
    from lib.engine.records import Event
    from lib.sim import Fleet

Kind = Literal["incident", "alert", "digest", "test"]

# Incident event changes as told to people, and the level each is told at; ``None``: the level
# of the group that opened the incident.
_INCIDENT_CHANGES: Mapping[str, tuple[str, Level | None]] = {
    "detected": ("opened", None),
    "recovery_started": ("recovery_attempted", Level.INFO),
    "recovered": ("recovered", Level.INFO),
    "recovery_failed": ("escalated", Level.CRITICAL),
    "revised": ("revised", Level.WARNING),
    "reopened": ("reopened", None),
    "closed": ("resolved", Level.INFO),
}

_CHANGE_TEXT: Mapping[str, tuple[str, str]] = {
    "opened": ("Incident", "장애 발생"),
    "recovery_attempted": ("Recovery attempted", "자동 복구 시도"),
    "recovered": ("Recovered", "복구됨"),
    "escalated": ("Recovery failed, escalated", "복구 실패, 에스컬레이션"),
    "revised": ("Diagnosis revised", "진단 수정"),
    "reopened": ("Incident came back", "장애 재발"),
    "resolved": ("Resolved", "해결됨"),
    "alert_opened": ("Alert", "경보"),
    "alert_escalated": ("Alert escalated", "경보 격상"),
    "alert_resolved": ("Alert resolved", "경보 해제"),
}


@dataclass(frozen=True)
class Notice:
    """One thing to tell, in both languages, before it is addressed to anyone."""

    key: str
    kind: Kind
    change: str
    level: str
    bucket: int
    subject: str
    server: str
    servers: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    incident_id: str | None = None
    alert_id: str | None = None
    title: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    late: bool = False

    @property
    def rank(self) -> Level:
        return parse_level(self.level)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        data: dict[str, Any] = json.loads(text)
        for name in ("servers", "roles", "regions", "history"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)


@dataclass(frozen=True)
class Told:
    """The notices of one advance, and which alert groups now belong to which incident."""

    notices: list[Notice]
    links: dict[str, str]
    """group id → incident id, for groups whose incident opened in this advance."""
    unlinked: list[str]
    """Groups whose incident closed in this advance."""


def notices_from(
    fleet: Fleet,
    notifications: Sequence[Notification],
    events: Iterable[Event],
    *,
    min_level: str = "info",
    incident_of: Mapping[str, str] | None = None,
) -> Told:
    """The notices of one advance at or above ``min_level``, in bucket order.

    ``incident_of`` maps the alert groups of incidents opened by earlier advances to them:
    an incident is told through its own transitions, so its group's escalations and
    resolution are not told again as alerts.
    """
    links = dict(incident_of or {})
    openings = {(n.bucket, fleet.ids[n.root]): n for n in notifications if n.reason == "opened"}
    out: list[Notice] = []
    closed: set[str] = set()
    for event in events:
        if event.kind != "incident" or event.data.get("change") not in _INCIDENT_CHANGES:
            continue
        group = openings.get((event.bucket, str(event.data.get("root_server"))))
        if event.data["change"] in ("detected", "reopened") and group is not None:
            links[group.group_id] = str(event.data["id"])
        if event.data["change"] == "closed":
            closed.add(str(event.data["id"]))
        elif event.data["change"] == "reopened":
            closed.discard(str(event.data["id"]))
        out.append(_incident_notice(fleet, event, group))
    out += [_alert_notice(fleet, n) for n in notifications if n.group_id not in links]
    floor = parse_level(min_level)
    known = incident_of or {}
    return Told(
        notices=sorted((n for n in out if n.rank >= floor), key=lambda n: n.bucket),
        links={g: i for g, i in links.items() if g not in known and i not in closed},
        unlinked=[g for g, i in links.items() if i in closed and g in known],
    )


def _where(fleet: Fleet, servers: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    indices = [fleet.index_of(s) for s in servers]
    roles = sorted({ROLES[int(fleet.role[i])] for i in indices})
    regions = sorted({REGIONS[int(fleet.region[i])] for i in indices})
    return tuple(roles), tuple(regions)


def _incident_notice(fleet: Fleet, event: Event, group: Notification | None) -> Notice:
    data = event.data
    change, fixed = _INCIDENT_CHANGES[data["change"]]
    level = fixed or (group.level if group is not None else Level.WARNING)
    incident_id, root = str(data["id"]), str(data["root_server"])
    servers = tuple(str(s) for s in data.get("servers", ()) or (root,))
    roles, regions = _where(fleet, servers)
    failure = FAILURE_TYPES.get(str(data.get("type")))
    head_en, head_ko = _CHANGE_TEXT[change]
    what = str(data.get("type", "incident"))
    title = {"en": f"{head_en}: {what} on {root}", "ko": f"{head_ko}: {root}의 {what}"}
    if change == "opened":
        # The diagnosis: what failed (the catalogue's description), where, and the plan.
        plan = data.get("strategy")
        en = failure.description_en if failure else what
        ko = failure.description_ko if failure else what
        body = {
            "en": f"{en} {len(servers)} server(s) affected."
            + (f" Automatic recovery: {plan}." if plan else ""),
            "ko": f"{ko} 영향 서버 {len(servers)}대." + (f" 자동 복구: {plan}." if plan else ""),
        }
    else:
        # The engine's events carry the step's reason in both languages (``_bilingual``).
        reason = data.get("reason") or {}
        body = {"en": reason.get("en") or head_en, "ko": reason.get("ko") or head_ko}
    return Notice(
        key=f"{incident_id}:{data['change']}:{event.bucket}",
        kind="incident",
        change=change,
        level=level.label,
        bucket=event.bucket,
        subject=incident_id,
        server=root,
        servers=servers,
        roles=roles,
        regions=regions,
        incident_id=incident_id,
        alert_id=group.group_id if group is not None else None,
        title=title,
        body=body,
    )


def _alert_notice(fleet: Fleet, n: Notification) -> Notice:
    root = fleet.ids[n.root]
    servers = tuple(fleet.ids[s] for s in (n.root, *n.servers) if s is not None)
    servers = tuple(dict.fromkeys(servers))
    roles, regions = _where(fleet, servers)
    change = f"alert_{n.reason}"
    head_en, head_ko = _CHANGE_TEXT[change]
    return Notice(
        key=f"{n.group_id}:{n.reason}:{n.bucket}",
        kind="alert",
        change=change,
        level=n.level.label,
        bucket=n.bucket,
        subject=n.group_id,
        server=root,
        servers=servers,
        roles=roles,
        regions=regions,
        alert_id=n.group_id,
        title={
            "en": f"{head_en} ({n.level.label}): {root}",
            "ko": f"{head_ko} ({n.level.label_ko}): {root}",
        },
        body={"en": n.summary_en, "ko": n.summary_ko},
    )


def merged(chain: Sequence[Notice]) -> Notice:
    """Several notices about one subject as one: the latest, at the highest level seen,
    remembering the changes it went through (``history``)."""
    last = chain[-1]
    if len(chain) == 1:
        return last
    top = max(chain, key=lambda n: n.rank)
    history = tuple(dict.fromkeys(c for n in chain for c in (*n.history, n.change)))
    return replace(last, level=top.level, history=history)
