"""Automatic recovery follows the diagnosis: try the diagnosed type's strategy, then either
the same again or the next hypothesis' (at most ``MAX_ATTEMPTS``), then escalate to an
operator.

A fitting fix works only most of the time (a restart that hits the same bug, a failover that
times out), so when the first attempt of a confident diagnosis fails, another try of the same
fix is likelier to work than a fix for a less likely failure; when the diagnosis hesitated
between types, the next hypothesis gets the second attempt.

Whether an action works is the world's business (``lib.engine.world.fix_outcome``): the
plan is laid out at detection, deterministically, so racing functions agree without talking
to each other, and the outcome of each attempt is what the world makes of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lib.diagnose import RECOVERY_OF, UNKNOWN, Hypothesis
from lib.engine import reasons
from lib.engine.reasons import Reason
from lib.engine.world import IncidentTrack

MAX_ATTEMPTS = 2
DELAY_S = 15
"""From detection to the start of the recovery action (diagnosis, runbook lookup)."""
MIN_HYPOTHESIS = 0.25
"""A hypothesis this weak is not worth acting on: an operator should look instead."""
RETRY_CONFIDENCE = 0.5
"""From this diagnosis confidence (which already discounts a close runner-up) a failed first
attempt is retried rather than traded for the next hypothesis."""

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


Outcome = Callable[[str, int, int], tuple[str, ...]]
"""``(strategy, attempt, bucket) →`` the simulated failures that action clears."""


def strategies_for(
    kind: str, hypotheses: tuple[Hypothesis, ...], confidence: float = 0.0
) -> tuple[str, ...]:
    """Strategies to try in order, at most ``MAX_ATTEMPTS``: the diagnosed type's again when
    the diagnosis is confident or no other hypothesis is worth acting on, else the next
    hypothesis'. An ``unknown`` gets one try per hypothesis worth acting on."""
    ranked = [kind] if kind != UNKNOWN else []
    ranked += [h.type for h in hypotheses if h.score >= MIN_HYPOTHESIS]
    distinct = tuple(dict.fromkeys(RECOVERY_OF[t] for t in ranked))
    if kind != UNKNOWN and (confidence >= RETRY_CONFIDENCE or len(distinct) == 1):
        return (distinct[0],) * MAX_ATTEMPTS
    return distinct[:MAX_ATTEMPTS]


def plan_recovery(
    track: IncidentTrack, strategies: tuple[str, ...], *, bucket_seconds: int, outcome: Outcome
) -> tuple[IncidentTrack, dict[str, int]]:
    """The track with its planned steps, and the world changes: simulated failure id → the
    bucket its fix takes effect."""
    steps: list[tuple[int, str, Reason]] = []
    at = track.detected_bucket + _buckets(DELAY_S, bucket_seconds)
    for attempt, strategy in enumerate(strategies):
        done = at + _buckets(ACTION_S.get(strategy, DEFAULT_ACTION_S), bucket_seconds)
        again = strategy in strategies[:attempt]
        steps.append((at, "recovery_started", reasons.recovery_started(strategy, again)))
        cleared = outcome(strategy, attempt, at)
        if cleared:
            steps.append((done, "recovered", reasons.recovery_succeeded(strategy)))
            return replace(track, attempts=strategies, plan=tuple(steps)), dict.fromkeys(
                cleared, done
            )
        steps.append((done, "recovery_failed", reasons.recovery_failed(strategy)))
        at = done
    steps.append((at, "escalated", reasons.escalated(bool(strategies))))
    return replace(track, attempts=strategies, plan=tuple(steps)), {}


def _buckets(seconds: int, bucket_seconds: int) -> int:
    return max(1, -(-seconds // bucket_seconds))
