"""Automatic recovery, decided deterministically: any function deciding for the same incident
decides the same thing, so racing functions agree without talking to each other."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from lib.engine.world import IncidentTrack
from lib.sim import FAILURE_TYPES

DELAY_S = 15
"""From detection to the start of the recovery action (diagnosis, runbook lookup)."""

ACTION_S: dict[str, int] = {
    "restart_service": 30,
    "scale_up": 60,
    "cleanup_logs": 45,
    "switch_backup_network": 30,
    "rollback_config": 45,
    "failover": 40,
    "circuit_breaker": 20,
    "reroute_traffic": 30,
    "purge_cdn": 30,
    "flush_dns": 20,
    "isolate_and_rotate_credentials": 90,
}
"""How long each action takes before its effect (or its failure) shows."""
DEFAULT_ACTION_S = 45


def succeeds(seed: int, incident_id: str, success_rate: float) -> bool:
    """Whether the recovery of ``incident_id`` succeeds: a uniform draw from a hash.

    A hash rather than a random generator: every process, now or later, draws the same.
    """
    digest = hashlib.blake2b(f"{seed}:recovery:{incident_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < success_rate


def plan_recovery(
    track: IncidentTrack, *, seed: int, success_rate: float, bucket_seconds: int
) -> IncidentTrack:
    """Decide the recovery of a just-detected incident: the track with its strategy and its
    planned steps (``recovery_started``, then ``recovered`` or ``recovery_failed``)."""
    strategy = FAILURE_TYPES[track.type].recovery
    start = track.detected_bucket + _buckets(DELAY_S, bucket_seconds)
    done = start + _buckets(ACTION_S.get(strategy.name, DEFAULT_ACTION_S), bucket_seconds)
    ok = succeeds(seed, track.id, success_rate)
    started = (start, "recovery_started", f"{strategy.name}: {strategy.description_en}")
    if ok:
        finished = (done, "recovered", f"{strategy.name} succeeded")
    else:
        finished = (done, "recovery_failed", f"{strategy.name} did not help; operator needed")
    return replace(track, strategy=strategy.name, plan=(started, finished))


def _buckets(seconds: int, bucket_seconds: int) -> int:
    return max(1, -(-seconds // bucket_seconds))
