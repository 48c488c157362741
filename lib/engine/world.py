"""What the engine keeps in the KV, read and written in as few commands as possible.

Everything lives in one hash, ``om:world``, so one ``HGETALL`` tells a function everything
it needs to compute any bucket and to show the alerts (Upstash bills per command):

- ``inj:<incident id>``: an injected incident (JSON);
- ``rec:<incident id>``: the bucket an incident recovers at (an engine decision or an
  operator's resolution);
- ``res:<incident id>``: who resolved it, when an operator did;
- ``engine``: the engine's state after the last processed bucket (JSON, see ``EngineState``);
- ``last``: the last processed bucket, duplicated so a cheap ``HGET`` can tell whether there
  is work.

- ``runtime``: the runtime settings (JSON), owned by ``/api/settings``
  (``lib.runtime_settings``).

The world model lives here too (``fix_outcome``, ``operator_fix``, ``scenario_of``): what an
action does to the simulated servers, and which simulated failure sits behind an incident.
It reads the simulator's ground truth, as the world itself would; the engine's decisions
never call it for an answer, only to act (and the demo, to show the truth beside them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lib.alerts import AlertBook, AlertGroup
from lib.engine.reasons import Reason, reason_of
from lib.sim import Fleet, Incident, Overrides, impacts_between

WORLD_KEY = "om:world"
LOCK_KEY = "om:engine:lock"
EVENTS_KEY = "om:events"

INJECTED = "inj:"
RECOVERED = "rec:"
RESOLVED_BY = "res:"
ENGINE = "engine"
LAST = "last"


@dataclass(frozen=True)
class IncidentTrack:
    """The engine's record of a detected incident while it is open, and its decisions.

    ``type``, ``servers``, ``root`` and ``started_bucket`` are what diagnosis concluded;
    ``diagnosis`` its full JSON form (evidence, hypotheses). ``attempts`` are the recovery
    strategies planned in order. ``groups`` are the alert groups it covers (the first opened
    it; a group that opens later on its servers joins). ``plan`` holds decided steps that
    take effect at later buckets: ``(bucket, event, reason)``, the reason in English and Korean
    (``lib.engine.reasons``), emitted when processing reaches them. ``scenario`` is the
    simulator's truth behind it, for display and evaluation only.
    """

    id: str
    type: str
    servers: tuple[int, ...]
    root: int
    started_bucket: int
    detected_bucket: int
    group_id: str
    status: str = "active"
    strategy: str | None = None
    recovery_bucket: int | None = None
    recovered_bucket: int | None = None
    escalated_bucket: int | None = None
    resolved_bucket: int | None = None
    resolved_by: str | None = None
    timeline: tuple[tuple[int, str, Reason], ...] = ()
    plan: tuple[tuple[int, str, Reason], ...] = ()
    diagnosis: dict[str, Any] = field(default_factory=dict)
    attempts: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    scenario: dict[str, Any] = field(default_factory=dict)
    quiet_since: int | None = None
    """The bucket its last alert group closed, while no new one has opened."""

    @property
    def failure_bucket(self) -> int | None:
        """The bucket the engine gave up and escalated (or plans to)."""
        if self.escalated_bucket is not None:
            return self.escalated_bucket
        return next((b for b, event, _ in self.plan if event == "escalated"), None)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentTrack:
        return cls(
            **{
                **d,
                "servers": tuple(d["servers"]),
                "timeline": tuple((b, e, reason_of(r)) for b, e, r in d["timeline"]),
                "plan": tuple((b, e, reason_of(r)) for b, e, r in d["plan"]),
                "attempts": tuple(d.get("attempts", ())),
                "groups": tuple(d.get("groups", (d["group_id"],))),
            }
        )


@dataclass(frozen=True)
class EngineState:
    """Everything the engine carries from one call to the next."""

    last: int
    book: AlertBook
    groups: tuple[AlertGroup, ...] = ()
    incidents: tuple[IncidentTrack, ...] = ()
    retention_day: int = -1
    closed: tuple[IncidentTrack, ...] = ()
    """Incidents that closed by themselves lately, kept to reopen if their failure comes back
    (``lib.engine.incidents.REOPEN_BUCKETS``)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "last": self.last,
                "book": base64.b64encode(self.book.to_bytes()).decode(),
                "groups": [g.to_dict() for g in self.groups],
                "incidents": [i.to_dict() for i in self.incidents],
                "retention_day": self.retention_day,
                "closed": [i.to_dict() for i in self.closed],
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> EngineState:
        d = json.loads(text)
        return cls(
            last=d["last"],
            book=AlertBook.from_bytes(base64.b64decode(d["book"])),
            groups=tuple(AlertGroup.from_dict(g) for g in d["groups"]),
            incidents=tuple(IncidentTrack.from_dict(i) for i in d["incidents"]),
            retention_day=d.get("retention_day", -1),
            closed=tuple(IncidentTrack.from_dict(i) for i in d.get("closed", ())),
        )


@dataclass(frozen=True)
class World:
    """A decoded ``om:world`` hash."""

    injected: tuple[Incident, ...] = ()
    recovered_at: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))
    state: EngineState | None = None
    resolved_by: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def last(self) -> int | None:
        return None if self.state is None else self.state.last

    def overrides(self, *, failures_enabled: bool, failure_rate_per_hour: float) -> Overrides:
        return Overrides(
            injected=self.injected,
            recovered_at=self.recovered_at,
            failures_enabled=failures_enabled,
            failure_rate_per_hour=failure_rate_per_hour,
        )


def decode_world(fields: dict[str, str]) -> World:
    injected = tuple(
        sorted(
            (incident_from_json(v) for k, v in fields.items() if k.startswith(INJECTED)),
            key=lambda i: (i.start_bucket, i.id),
        )
    )
    recovered = {k[len(RECOVERED) :]: int(v) for k, v in fields.items() if k.startswith(RECOVERED)}
    state = EngineState.from_json(fields[ENGINE]) if ENGINE in fields else None
    by = {k[len(RESOLVED_BY) :]: v for k, v in fields.items() if k.startswith(RESOLVED_BY)}
    return World(injected, MappingProxyType(recovered), state, MappingProxyType(by))


def incident_to_json(incident: Incident) -> str:
    return json.dumps(
        {
            "id": incident.id,
            "type": incident.type,
            "targets": list(incident.targets),
            "start_bucket": incident.start_bucket,
            "duration_buckets": incident.duration_buckets,
            "magnitude": incident.magnitude,
            "draw": incident.draw,
        },
        sort_keys=True,
    )


def incident_from_json(text: str) -> Incident:
    d = json.loads(text)
    return Incident(
        id=d["id"],
        type=d["type"],
        targets=tuple(d["targets"]),
        start_bucket=d["start_bucket"],
        duration_buckets=d["duration_buckets"],
        injected=True,
        # Records written before magnitudes and draws existed: drawn again from the id.
        magnitude=d.get("magnitude", ""),
        draw=d.get("draw", -1),
    )


# -- the world model: what actions do to the simulated servers ---------------------------


def succeeds(seed: int, key: str, success_rate: float) -> bool:
    """Whether a fitting action works: a uniform draw from a hash of ``key``.

    A hash rather than a random generator: every process, now or later, draws the same.
    """
    digest = hashlib.blake2b(f"{seed}:recovery:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < success_rate


def _acting_on(
    fleet: Fleet, overrides: Overrides, servers: Iterable[int], bucket: int
) -> list[Incident]:
    wanted = set(servers)
    return [
        impact.incident
        for impact in impacts_between(fleet, bucket, bucket + 1, overrides)
        if wanted & set(impact.incident.targets) and impact.end_bucket > bucket
    ]


def fix_outcome(
    fleet: Fleet,
    overrides: Overrides,
    *,
    strategy: str,
    servers: tuple[int, ...],
    bucket: int,
    attempt: int,
    seed: int,
    success_rate: float,
) -> tuple[str, ...]:
    """The simulated failures an action clears: those acting on ``servers`` at ``bucket``
    whose own recovery is ``strategy``, each with probability ``success_rate``. A wrong
    action clears nothing."""
    return tuple(
        i.id
        for i in _acting_on(fleet, overrides, servers, bucket)
        if i.failure.recovery.name == strategy
        and succeeds(seed, i.id if attempt == 0 else f"{i.id}#{attempt}", success_rate)
    )


def operator_fix(
    fleet: Fleet, overrides: Overrides, servers: tuple[int, ...], bucket: int
) -> tuple[str, ...]:
    """What an operator's hands-on resolution clears: every failure acting on ``servers``."""
    return tuple(i.id for i in _acting_on(fleet, overrides, servers, bucket))


def scenario_of(
    fleet: Fleet, overrides: Overrides, servers: tuple[int, ...], bucket: int
) -> dict[str, Any]:
    """The simulator's truth behind an incident on ``servers`` at ``bucket``: the failures
    whose impact reaches them, labelled as such. For display and evaluation only."""
    wanted = set(servers)
    found = []
    for impact in impacts_between(fleet, bucket, bucket + 1, overrides):
        reached = {s for g in impact.groups for s in g.servers} | set(impact.incident.targets)
        if wanted & reached:
            i = impact.incident
            found.append(
                {
                    "id": i.id,
                    "type": i.type,
                    "targets": [fleet.ids[t] for t in i.targets],
                    "start_bucket": i.start_bucket,
                    "injected": i.injected,
                }
            )
    return {"source": "simulator ground truth", "incidents": found}
