"""The simulator's answer key, as records: what really happened, for the world model and the
evaluation only. The engine must never read it to decide (see ``tests/unit/test_purity.py``).

A ``TruthEvent`` describes one failure or benign event; ``truth_events`` lists those acting
in a bucket range and ``lib.sim.fleet_state.ground_truth`` adds the cells each one changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.sim.benign import benign_between
from lib.sim.fleet import Fleet
from lib.sim.incidents import Impact, Overrides, lead_buckets
from lib.sim.schedule import impacts_between


@dataclass(frozen=True)
class TruthEvent:
    """One event as the simulator played it. Buckets are absolute; server fields are indices.

    - ``type``: one of ``FAILURE_TYPES`` or, if ``benign``, of ``BENIGN_TYPES``;
    - ``magnitude``: mild | moderate | severe (how far its scaled effects go);
    - ``shape``: sudden | ramp | gradual | intermittent;
    - ``precursor_bucket``: first bucket of its precursor (``start_bucket`` if it has none);
    - ``start_bucket``: first bucket of the event proper (metrics begin to move);
    - ``critical_bucket``: first bucket at full effect, the key metric at its critical level
      (a gradual failure's OOM kill or full disk; for sudden ones ``start_bucket``);
    - ``end_bucket``: the event stops acting (recovery or scheduled end), then settles until
      ``last_bucket`` (exclusive);
    - ``root``: the root-cause server (its first target; every target is a root cause);
    - ``affected``: targets first, then the servers reached through the topology;
    - ``recovery``: the name of the strategy that fixes it (``"none"`` for benign events).
    """

    id: str
    type: str
    benign: bool
    magnitude: str
    shape: str
    precursor_bucket: int
    start_bucket: int
    critical_bucket: int
    end_bucket: int
    last_bucket: int
    root: int
    targets: tuple[int, ...]
    affected: tuple[int, ...]
    key_metrics: tuple[str, ...]
    recovery: str
    injected: bool
    recovered: bool
    impact: Impact = field(repr=False, compare=False)


def truth_event(impact: Impact, bucket_seconds: int) -> TruthEvent:
    """The record of one impact."""
    incident = impact.incident
    failure = incident.failure
    start = incident.start_bucket
    return TruthEvent(
        id=incident.id,
        type=incident.type,
        benign=failure.benign,
        magnitude=incident.magnitude,
        shape=str(failure.shape),
        precursor_bucket=start - lead_buckets(incident, bucket_seconds),
        start_bucket=start,
        critical_bucket=start + incident.onset_buckets(bucket_seconds),
        end_bucket=impact.end_bucket,
        last_bucket=impact.last_bucket,
        root=incident.targets[0],
        targets=incident.targets,
        affected=impact.servers,
        key_metrics=failure.key_metrics,
        recovery=failure.recovery.name,
        injected=incident.injected,
        recovered=impact.recovered,
        impact=impact,
    )


def truth_events(fleet: Fleet, b0: int, b1: int, overrides: Overrides) -> tuple[TruthEvent, ...]:
    """Every failure and benign event acting in buckets ``[b0, b1)``, ordered by (start, id)."""
    impacts = impacts_between(fleet, b0, b1, overrides) + benign_between(fleet, b0, b1, overrides)
    ordered = sorted(impacts, key=lambda i: (i.incident.start_bucket, i.incident.id))
    return tuple(truth_event(i, fleet.bucket_seconds) for i in ordered)
