"""Incidents, overrides, and where and when an incident acts (its ``Impact``).

Phases of an incident, in buckets:

    first_bucket ─ precursor ─ start_bucket ─ visible ─ end_bucket ─ settling ─ last_bucket

``end_bucket`` is ``min(start + duration, recovered_at)`` (never before the start). Cascade
groups act ``lag_buckets`` later than the targets and have no precursor, nor has an injected
incident (an operator's drill starts when it is made). ``last_bucket`` is exclusive: from it
on, every metric the incident touched is back to its healthy value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import ceil
from types import MappingProxyType
from typing import Final

from lib.errors import ValidationError
from lib.sim.failures import (
    EVENT_TYPES,
    HOP_S,
    HOPS,
    MAGNITUDES,
    SETTLE_S,
    FailureType,
    Reach,
    draw_magnitude,
    draw_onset_s,
    draw_period_s,
    draw_scale,
    effect_metrics,
)
from lib.sim.fleet import Fleet
from lib.sim.noise import hash_text
from lib.sim.roles import LOADBALANCER, WEB

MAX_GROUP: Final = 32  # cascades stop at this many servers per group (large fleets)


@dataclass(frozen=True)
class Incident:
    """An event of one type on ``targets`` (server indices): a failure, or a benign event.

    ``magnitude`` (mild | moderate | severe) and ``draw`` (the 64-bit key of the event's
    random shape parameters) are drawn from ``hash_text(id)`` when left empty; the schedule
    passes its seeded draws. ``onset_s``, ``scale`` and ``period_s`` follow from them.
    """

    id: str
    type: str
    targets: tuple[int, ...]
    start_bucket: int
    duration_buckets: int
    injected: bool = False
    magnitude: str = ""
    draw: int = -1
    onset_s: int = field(init=False, compare=False)  # seconds from the start to full effect
    scale: float = field(init=False, compare=False)  # factor on the scaled effects
    period_s: int = field(init=False, compare=False)  # burst period (intermittent types)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(int(t) for t in self.targets))
        if self.type not in EVENT_TYPES:
            raise ValidationError(f"unknown failure type {self.type!r}", field="type")
        if self.draw < 0:
            object.__setattr__(self, "draw", hash_text(self.id))
        if not self.magnitude:
            object.__setattr__(self, "magnitude", draw_magnitude(self.draw))
        if self.magnitude not in MAGNITUDES:
            raise ValidationError(
                f"magnitude must be one of {', '.join(MAGNITUDES)}, got {self.magnitude!r}",
                field="magnitude",
            )
        failure = self.failure
        object.__setattr__(self, "onset_s", draw_onset_s(failure, self.draw))
        object.__setattr__(self, "scale", draw_scale(failure, self.magnitude, self.draw))
        object.__setattr__(self, "period_s", draw_period_s(self.draw))
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise ValidationError("targets must be distinct and not empty", field="targets")
        if self.duration_buckets < 1:
            raise ValidationError(
                f"duration must be at least one bucket, got {self.duration_buckets}",
                field="duration_buckets",
            )

    @property
    def failure(self) -> FailureType:
        """The catalogue entry of ``type`` (a failure or a benign type)."""
        return EVENT_TYPES[self.type]

    @property
    def severity(self) -> str:
        """The catalogue's alert level (warning | error | critical | info), not the magnitude."""
        return self.failure.severity

    @property
    def benign(self) -> bool:
        return self.failure.benign

    def onset_buckets(self, bucket_seconds: int) -> int:
        """Buckets from the start to the first bucket at full effect (the critical level)."""
        return max(0, ceil(self.onset_s / bucket_seconds) - 1)


@dataclass(frozen=True)
class Overrides:
    """What the shell adds to the seeded simulation: injected incidents and recoveries.

    ``recovered_at`` maps an incident id to the bucket from which it is recovered; it is
    stored read-only, and the value is hashable so that it can key a cache.
    """

    injected: tuple[Incident, ...] = ()
    recovered_at: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    failures_enabled: bool = True
    failure_rate_per_hour: float = 2.0
    benign_enabled: bool = True  # deploys, batch jobs, traffic surges, log rotation

    def __post_init__(self) -> None:
        object.__setattr__(self, "recovered_at", MappingProxyType(dict(self.recovered_at)))
        object.__setattr__(self, "injected", tuple(self.injected))
        if not self.failure_rate_per_hour >= 0:
            raise ValidationError(
                f"failure_rate_per_hour must be >= 0, got {self.failure_rate_per_hour}",
                field="failure_rate_per_hour",
            )
        if len({i.id for i in self.injected}) != len(self.injected):
            raise ValidationError("injected incident ids must be unique", field="injected")

    def __hash__(self) -> int:
        return hash(
            (
                self.injected,
                frozenset(self.recovered_at.items()),
                self.failures_enabled,
                self.failure_rate_per_hour,
                self.benign_enabled,
            )
        )


@dataclass(frozen=True)
class ImpactGroup:
    """Servers an incident reaches the same way: same effects, same delay."""

    reach: Reach
    servers: tuple[int, ...]
    lag_buckets: int
    metrics: tuple[int, ...]  # metrics changed in the visible phase


@dataclass(frozen=True)
class Impact:
    """Where and when an incident acts, given the overrides. See the module docstring."""

    incident: Incident
    first_bucket: int
    precursor_end: int  # the precursor stops at min(start, recovered_at)
    end_bucket: int
    last_bucket: int
    recovered: bool  # ended early by a recovery decision
    groups: tuple[ImpactGroup, ...]
    precursor_metrics: tuple[int, ...]

    @property
    def targets(self) -> tuple[int, ...]:
        return self.incident.targets

    @property
    def cascade(self) -> tuple[int, ...]:
        """Servers reached through the topology, excluding the targets."""
        return tuple(s for g in self.groups if g.reach is not Reach.TARGET for s in g.servers)

    @property
    def servers(self) -> tuple[int, ...]:
        return self.targets + self.cascade


def precursor_buckets(failure: FailureType, bucket_seconds: int) -> int:
    return ceil(failure.precursor_s / bucket_seconds)


def lead_buckets(incident: Incident, bucket_seconds: int) -> int:
    """Buckets ``incident`` acts before its start: its type's precursor, none for an
    operator's drill (it starts when it is made: a precursor would play in buckets already
    observed, and change the past after the fact)."""
    return 0 if incident.injected else precursor_buckets(incident.failure, bucket_seconds)


def settle_buckets(bucket_seconds: int) -> int:
    """Buckets of settling after the end; the last one is still short of normal."""
    return max(0, ceil(SETTLE_S / bucket_seconds) - 1)


def hop_buckets(bucket_seconds: int) -> int:
    return ceil(HOP_S / bucket_seconds)


def reach_groups(fleet: Fleet, incident: Incident) -> tuple[ImpactGroup, ...]:
    """The groups of servers ``incident`` reaches, targets first, each server in one group."""
    failure = incident.failure
    hop = hop_buckets(fleet.bucket_seconds)
    seen = set(incident.targets)
    found: dict[Reach, tuple[int, ...]] = {Reach.TARGET: incident.targets}
    for reach in failure.reaches:
        if reach is Reach.TARGET:
            continue
        if reach is Reach.CALLERS:
            candidates = _neighbours(fleet, incident.targets, up=True)
        elif reach is Reach.CALLERS2:
            candidates = _neighbours(fleet, found.get(Reach.CALLERS, ()), up=True)
        elif reach is Reach.CALLEES:
            candidates = _neighbours(fleet, incident.targets, up=False)
        else:
            candidates = _failover(fleet, incident.targets)
        servers = tuple(s for s in candidates if s not in seen)[:MAX_GROUP]
        seen.update(servers)
        found[reach] = servers
    return tuple(
        ImpactGroup(
            reach=reach,
            servers=servers,
            lag_buckets=HOPS[reach] * hop,
            metrics=effect_metrics(failure.effects_on(reach)),
        )
        for reach, servers in found.items()
        if servers
    )


def impact_of(fleet: Fleet, incident: Incident, overrides: Overrides) -> Impact:
    """Phases and reach of ``incident`` under ``overrides`` (see the module docstring)."""
    failure = incident.failure
    start = incident.start_bucket
    recovered_at = overrides.recovered_at.get(incident.id)
    end = start + incident.duration_buckets
    recovered = recovered_at is not None and recovered_at < end
    if recovered_at is not None:
        end = max(start, min(end, recovered_at))
    precursor_end = start if recovered_at is None else min(start, recovered_at)
    first = min(start - lead_buckets(incident, fleet.bucket_seconds), precursor_end)
    groups = reach_groups(fleet, incident)
    if end > start:
        lag = max(g.lag_buckets for g in groups)
        last = end + settle_buckets(fleet.bucket_seconds) + lag
    else:
        last = precursor_end
    return Impact(
        incident=incident,
        first_bucket=first,
        precursor_end=precursor_end,
        end_bucket=end,
        last_bucket=last,
        recovered=recovered,
        groups=groups,
        precursor_metrics=effect_metrics(failure.precursor),
    )


def check_targets(fleet: Fleet, incident: Incident) -> None:
    """Raise ``ValidationError`` unless every target exists and has a role the type can hit."""
    roles = incident.failure.roles
    for s in incident.targets:
        if not 0 <= s < fleet.size or int(fleet.role[s]) not in roles:
            raise ValidationError(
                f"incident {incident.id!r}: server {s} cannot be hit by {incident.type}",
                field="targets",
                incident_id=incident.id,
            )


def _neighbours(fleet: Fleet, servers: tuple[int, ...], *, up: bool) -> list[int]:
    ptr, idx = (fleet.up_ptr, fleet.up_idx) if up else (fleet.down_ptr, fleet.down_idx)
    found: set[int] = set()
    for s in servers:
        found.update(int(x) for x in idx[ptr[s] : ptr[s + 1]])
    return sorted(found)


def _failover(fleet: Fleet, targets: tuple[int, ...]) -> list[int]:
    """Load balancers of the next region (in round-robin order), with their web servers."""
    order = fleet.region_order
    if len(order) < 2:
        return []
    here = order.index(int(fleet.region[targets[0]]))
    region = order[(here + 1) % len(order)]
    lbs = fleet.servers_in_region((LOADBALANCER,), region)[:4]
    webs = _neighbours(fleet, tuple(int(s) for s in lbs), up=False)
    webs = [s for s in webs if fleet.role[s] == WEB]
    return sorted({*(int(s) for s in lbs), *webs})
