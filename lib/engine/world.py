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
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lib.alerts import AlertBook, AlertGroup
from lib.sim import Incident, Overrides

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

    ``plan`` holds decided steps that take effect at later buckets:
    ``(bucket, event, reason)``, emitted when processing reaches them.
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
    timeline: tuple[tuple[int, str, str], ...] = ()
    plan: tuple[tuple[int, str, str], ...] = ()

    @property
    def recovered_plan(self) -> int | None:
        """The bucket the planned recovery takes effect, when it is planned to succeed."""
        return next((b for b, event, _ in self.plan if event == "recovered"), None)

    @property
    def failure_bucket(self) -> int | None:
        """The bucket the recovery failed (or is planned to fail)."""
        if self.escalated_bucket is not None:
            return self.escalated_bucket
        return next((b for b, event, _ in self.plan if event == "recovery_failed"), None)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentTrack:
        return cls(
            **{
                **d,
                "servers": tuple(d["servers"]),
                "timeline": tuple(tuple(t) for t in d["timeline"]),
                "plan": tuple(tuple(t) for t in d["plan"]),
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

    def to_json(self) -> str:
        return json.dumps(
            {
                "last": self.last,
                "book": base64.b64encode(self.book.to_bytes()).decode(),
                "groups": [g.to_dict() for g in self.groups],
                "incidents": [i.to_dict() for i in self.incidents],
                "retention_day": self.retention_day,
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
