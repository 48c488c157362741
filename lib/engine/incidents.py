"""Incidents from diagnoses: open, join a multi-server failure, follow the plan, close.

Pure: tracks in, tracks out; the caller writes the records and events they produce.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from lib.diagnose import UNKNOWN, Diagnosis
from lib.diagnose.classify import MAX_LOG_LINES
from lib.diagnose.clues import clue_types
from lib.engine import reasons
from lib.engine.reasons import Reason
from lib.engine.world import IncidentTrack
from lib.sim import METRICS

JOIN_BUCKETS = 100
"""A diagnosis of the same type in the same region starting this close to an open incident's
onset is the same failure on more servers (a breach or a CDN failure hits up to three)."""


REVISE_MARGIN = 0.1
"""A re-diagnosis of an incident's root revises its type when its top score beats the first
diagnosis' by this much: detected at its first signs, a failure can read as another."""

QUIET_BUCKETS = 40
"""An incident closes once its alerts have stayed clear this long (2 min at 3 s): a leak
whose OOM kills clear its alerts for a moment is one incident, not one per cycle."""
QUIET_ESCALATED = 100
"""The same for an incident waiting for an operator (5 min): a failure that comes in bursts
(a flapping link) keeps its one incident between bursts."""
REOPEN_BUCKETS = 3600
"""An incident that closed by itself reopens when its failure comes back on the same root as
the same type within this long (3 h at 3 s): a leak that the OOM killer restarts, its alerts
clear for an hour or more, was never fixed; an operator should see one incident that keeps
coming back, not a new one each cycle."""


def incident_id(server_id: str, bucket: int) -> str:
    """``inc-<root server>-<bucket detected>``: what the engine saw, nothing from the simulator."""
    return f"inc-{server_id}-{bucket}"


def covered(tracks: Mapping[str, IncidentTrack], group_id: str) -> set[int]:
    """Servers that the open incidents of a group already account for."""
    return {s for t in tracks.values() if group_id in t.groups for s in t.servers}


def joinable(
    tracks: Mapping[str, IncidentTrack], d: Diagnosis, regions: tuple[int, ...]
) -> IncidentTrack | None:
    """An open incident that ``d`` is more of: same type and region, onset close, unfixed."""
    for t in tracks.values():
        if (
            t.type == d.type
            and t.status in ("active", "recovering")
            and t.recovered_bucket is None
            and regions[t.root] == regions[d.root]
            and abs(t.started_bucket - d.onset_bucket) <= JOIN_BUCKETS
        ):
            return t
    return None


def new_track(d: Diagnosis, group_id: str, bucket: int, ids: tuple[str, ...]) -> IncidentTrack:
    """A just-detected incident as diagnosis describes it."""
    return IncidentTrack(
        id=incident_id(ids[d.root], bucket),
        type=d.type,
        servers=d.affected,
        root=d.root,
        started_bucket=min(d.onset_bucket, bucket),
        detected_bucket=bucket,
        group_id=group_id,
        groups=(group_id,),
        diagnosis=d.to_dict(ids),
        timeline=(
            (min(d.onset_bucket, bucket), "started", reasons.started(ids[d.root])),
            (bucket, "detected", reasons.detected(d)),
        ),
    )


def joined(t: IncidentTrack, d: Diagnosis, group_id: str, bucket: int, ids: tuple[str, ...]):
    """``t`` grown by the servers of ``d``, a further target of the same failure."""
    servers = tuple(sorted(set(t.servers) | set(d.affected)))
    diagnosis = {**t.diagnosis, "affected": [ids[s] for s in servers]}
    return replace(
        t,
        servers=servers,
        groups=tuple(dict.fromkeys((*t.groups, group_id))),
        diagnosis=diagnosis,
        timeline=(*t.timeline, (bucket, "joined", reasons.joined(ids[d.root], d))),
    )


def apply_step(t: IncidentTrack, bucket: int, event: str, reason: Reason) -> IncidentTrack:
    """A planned step taking effect."""
    timeline = (*t.timeline, (bucket, event, reason))
    if event == "recovery_started":
        tried = sum(1 for _, e, _ in t.timeline if e == "recovery_started")
        return replace(
            t,
            status="recovering",
            strategy=t.attempts[tried] if tried < len(t.attempts) else t.strategy,
            recovery_bucket=t.recovery_bucket if t.recovery_bucket is not None else bucket,
            timeline=timeline,
        )
    if event == "recovered":
        return replace(t, status="recovering", recovered_bucket=bucket, timeline=timeline)
    if event == "recovery_failed":
        return replace(t, timeline=timeline)
    return replace(t, status="escalated", escalated_bucket=bucket, timeline=timeline)


def effect_bucket(track: IncidentTrack) -> int | None:
    """Where a new track's plan first changes the world or the alert levels."""
    changes = [b for b, event, _ in track.plan if event in ("recovered", "escalated")]
    return min(changes) if changes else None


def with_new_logs(t: IncidentTrack, d: Diagnosis, ids: tuple[str, ...]) -> IncidentTrack:
    """``t`` with the log lines of ``d``, its failure diagnosed again, that it did not show
    yet, up to ``MAX_LOG_LINES``: a failure detected at its first signs writes its lines
    after, and the evidence gathers them while the incident is open. ``t`` itself when
    nothing is new, the evidence is full, or ``d`` is another failure (another root or type)."""
    evidence = t.diagnosis.get("evidence", {})
    shown = list(evidence.get("logs", []))
    room = MAX_LOG_LINES - len(shown)
    if d.root != t.root or d.type != t.type or not t.diagnosis or room <= 0:
        return t

    def key(line: dict[str, object]) -> tuple[object, ...]:
        return line["bucket"], line["server"], line["message"]

    known = {key(line) for line in shown}
    fresh = [line for line in d.to_dict(ids)["evidence"]["logs"] if key(line) not in known]
    if not fresh:
        return t
    grown = {**evidence, "logs": shown + fresh[:room]}
    return replace(t, diagnosis={**t.diagnosis, "evidence": grown})


def revised(t: IncidentTrack, d: Diagnosis, bucket: int, ids: tuple[str, ...]) -> IncidentTrack:
    """``t`` with the type and diagnosis of ``d``, its root diagnosed again, where ``d`` names
    another failure and explains it clearly better (``REVISE_MARGIN``): a breach detected
    while a dark balancer hid it read as a crash, a disk fill seen early as unknown. ``t``
    itself otherwise, and while its recovery plan still runs (the plan acts on its type)."""
    if d.root != t.root or d.type in (t.type, UNKNOWN) or not d.is_incident or not d.hypotheses:
        return t
    if t.recovered_bucket is not None or any(at > bucket for at, _, _ in t.plan):
        return t
    first = t.diagnosis.get("hypotheses") or [{"score": 0.0}]
    if d.hypotheses[0].score < float(first[0]["score"]) + REVISE_MARGIN:
        return t
    diagnosis = {**d.to_dict(ids), "affected": [ids[s] for s in t.servers]}
    return replace(
        t,
        type=d.type,
        diagnosis=diagnosis,
        timeline=(*t.timeline, (bucket, "revised", reasons.revised(t.type, d))),
    )


def recent(closed: Mapping[str, IncidentTrack], bucket: int) -> dict[str, IncidentTrack]:
    """The incidents that closed by themselves recently enough to reopen as of ``bucket``."""
    return {
        k: t
        for k, t in closed.items()
        if t.resolved_by == "self"
        and t.resolved_bucket is not None
        and bucket - t.resolved_bucket <= REOPEN_BUCKETS
    }


def reopenable(
    closed: Mapping[str, IncidentTrack], d: Diagnosis, bucket: int
) -> IncidentTrack | None:
    """The recently self-closed incident that ``d``, at ``bucket``, is the return of: one on
    the same root whose type ``d`` names, or holds among its hypotheses while the root's own
    log lines still name that failure and not ``d``'s (a leak's OOM kill reads as a
    configuration error by its metrics alone: memory down, errors up)."""
    if not d.is_incident:
        return None
    named = {k for line in d.log_lines if line.server == d.root for k in clue_types(line)}
    listed = {h.type for h in d.hypotheses}

    def returns(t: IncidentTrack) -> bool:
        if t.root != d.root or t.type == UNKNOWN:
            return False
        return t.type == d.type or (t.type in listed & named and d.type not in named)

    same = [t for t in recent(closed, bucket).values() if returns(t)]
    return max(same, key=lambda t: t.resolved_bucket or 0, default=None)


def reopened(t: IncidentTrack, group_id: str, bucket: int, ids: tuple[str, ...]) -> IncidentTrack:
    """``t`` open again from ``bucket``, covering ``group_id``, as it stood when it closed:
    escalated if it was (the engine's fixes already failed: an operator's, not another try),
    active otherwise."""
    times = 1 + sum(1 for _, event, _ in t.timeline if event == "reopened")
    return replace(
        t,
        status="escalated" if t.escalated_bucket is not None else "active",
        resolved_bucket=None,
        resolved_by=None,
        group_id=group_id,
        groups=(group_id,),
        quiet_since=None,
        timeline=(*t.timeline, (bucket, "reopened", reasons.reopened(ids[t.root], times))),
    )


def attached(t: IncidentTrack, group_id: str) -> IncidentTrack:
    """``t`` covering one more alert group: its servers alert again."""
    if group_id in t.groups:
        return t
    return replace(t, groups=(*t.groups, group_id), quiet_since=None)


def closing(
    t: IncidentTrack, open_groups: set[str], bucket: int, resolved_by: Mapping[str, str]
) -> IncidentTrack:
    """``t`` as of ``bucket``: closed once every alert it covers has cleared for
    ``QUIET_BUCKETS`` (at once when an operator resolved it), quiet or open otherwise."""
    if open_groups & set(t.groups):
        return t if t.quiet_since is None else replace(t, quiet_since=None)
    if t.status == "recovering" and any(p[0] > bucket for p in t.plan):
        return t  # alerts cleared before the action finished: wait for it
    operator = resolved_by.get(t.id)
    if t.quiet_since is None and operator is None:
        return replace(t, quiet_since=bucket)
    quiet = QUIET_ESCALATED if t.status == "escalated" else QUIET_BUCKETS
    if operator is None and bucket - (t.quiet_since or bucket) < quiet:
        return t
    if operator is not None:
        final, by, reason = "resolved", operator, reasons.resolved_by(operator)
    elif t.recovered_bucket is not None:
        final, by, reason = "recovered", "engine", reasons.restored(t.strategy)
    elif t.status == "escalated":
        # A leak's OOM kill clears its alerts too: nothing says the cause is gone.
        final, by, reason = "resolved", "self", reasons.CLEARED_UNFIXED
    else:
        final, by, reason = "resolved", "self", reasons.SELF_HEALED
    return replace(
        t,
        status=final,
        resolved_bucket=bucket if final == "resolved" else t.resolved_bucket,
        resolved_by=by,
        timeline=(*t.timeline, (bucket, "closed", reason)),
        plan=(),
        quiet_since=None,
    )


def failed_mask(
    tracks: Mapping[str, IncidentTrack],
    ended: Mapping[str, int],
    n_servers: int,
    c0: int,
    b1: int,
) -> np.ndarray:
    """bool[T, series]: the series' incident was escalated and nobody has ended it yet."""
    mask = np.zeros((b1 - c0, n_servers, len(METRICS)), dtype=bool)
    for t in tracks.values():
        failed = t.failure_bucket
        if failed is None:
            continue
        until = ended.get(t.id, b1)
        rows = slice(max(0, failed - c0), max(0, min(b1, until) - c0))
        mask[rows, list(t.servers), :] = True
    return mask.reshape(b1 - c0, -1)
