"""Applying incidents to metric windows, and painting the ground truth they leave.

An effect's intensity at bucket ``b`` of a group starting at ``g = start + lag`` is

- precursor (targets only, ``first <= b < precursor_end``): ``(b - start + P + 1) / (P + 1)``,
  ``P`` the precursor length in buckets;
- visible (``0 <= e < D``, ``e = b - g``, ``D = end - start``): the envelope, ``min((e + 1) *
  bucket_seconds / onset_s, 1)`` for sudden and ramp shapes (a sudden onset is at most a
  bucket long) and 1 for gradual and intermittent ones, times the effect's wave at
  ``e * bucket_seconds`` (``lib.sim.failures.wave``);
- settling (``D <= e < D + settle``): the same times ``(1 - x)³``,
  ``x = (e - D + 1) * bucket_seconds / SETTLE_S``, an exponential-like decay written as a
  polynomial so that it is bit-identical on every CPU.

Every phase's intensity of a scaled effect is then multiplied by the event's ``scale`` (its
magnitude).

Each incident reads and rewrites a small block (its buckets × its servers) in float64 and
rounds it back to float32, so a bucket's numbers do not depend on the window around it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from lib.sim.failures import SETTLE_S, Effect, Op, Shape, Wave, wave
from lib.sim.incidents import Impact, precursor_buckets, settle_buckets
from lib.sim.metrics import UPPER_BOUND

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


_OP_ORDER = (Op.SET, Op.MUL, Op.ADD)
"""How effects on one cell compose, whichever incident came first: a state is set (a dead
process serves nothing), load is scaled (a dark balancer cuts its servers' traffic), then
work of its own is added (an intruder's CPU and upload, which no traffic cut removes)."""


def composition_order(impact: Impact) -> tuple[int, str, tuple[int, ...], int]:
    """What orders incidents acting on the same cells: what they are, never their id."""
    incident = impact.incident
    return (incident.start_bucket, incident.type, incident.targets, incident.draw)


def apply_impacts(
    values: F32,
    b0: int,
    impacts: Sequence[Impact],
    columns: npt.NDArray[np.intp],
    bucket_seconds: int,
) -> None:
    """Apply ``impacts`` in place to ``values`` (``float32[bucket, column, metric]`` from
    ``b0``): every set effect, then every scaling, then every addition, each in
    ``composition_order``, so that two concurrent incidents compose the same whatever their
    ids (an operator's drill has a random one).

    ``columns[s]`` is the column of global server ``s`` in ``values``, or -1 if absent.
    """
    blocks = [
        (impact, block)
        for impact in sorted(impacts, key=composition_order)
        for block in _blocks(values.shape[0], b0, impact, columns, bucket_seconds)
    ]
    for op in _OP_ORDER:
        for impact, (lo, hi, cols, effects, intensity, elapsed_s) in blocks:
            chosen = [e for e in effects if e.op is op]
            if not chosen:
                continue
            block = values[lo - b0 : hi - b0, cols].astype(np.float64)
            for effect in chosen:
                strength = _strength(impact, effect, intensity, elapsed_s)
                block[:, :, effect.metric] = _change(block[:, :, effect.metric], effect, strength)
            values[lo - b0 : hi - b0, cols] = block.astype(np.float32)


def paint_truth(
    truth: npt.NDArray[np.int16],
    b0: int,
    impact: Impact,
    index: int,
    columns: npt.NDArray[np.intp],
    bucket_seconds: int,
) -> None:
    """Mark with ``index`` the (bucket, column, metric) cells ``impact`` changes: those of
    its effects whose strength is not zero there (between bursts, before a disk is full)."""
    for lo, _, cols, effects, intensity, elapsed_s in _blocks(
        truth.shape[0], b0, impact, columns, bucket_seconds
    ):
        for effect in effects:
            rows = np.flatnonzero(_strength(impact, effect, intensity, elapsed_s) > 0) + lo - b0
            truth[rows[:, None], cols[None, :], effect.metric] = index


def _strength(impact: Impact, effect: Effect, intensity: F64, elapsed_s: I64 | None) -> F64:
    """Per bucket, the strength of ``effect``: intensity, wave and magnitude."""
    incident = impact.incident
    strength = intensity
    if elapsed_s is not None and effect.wave is not Wave.CONST:
        strength = intensity * wave(effect.wave, elapsed_s, incident.onset_s, incident.period_s)
    return strength * incident.scale if effect.scaled else strength


def _change(v: F64, effect: Effect, strength: F64) -> F64:
    s = strength[:, None]
    if effect.op is Op.SET:
        out = v + (effect.value - v) * s
    elif effect.op is Op.MUL:
        out = v * (1.0 + (effect.value - 1.0) * s)
    else:
        out = v + effect.value * s
    out = np.maximum(out, 0.0)
    upper = UPPER_BOUND[effect.metric]
    return out if upper == np.inf else np.minimum(out, upper)


def _blocks(
    n: int, b0: int, impact: Impact, columns: npt.NDArray[np.intp], bucket_seconds: int
) -> list[tuple[int, int, npt.NDArray[np.intp], tuple[Effect, ...], F64, I64 | None]]:
    """The blocks an impact touches within buckets ``[b0, b0 + n)``, in application order:
    ``(lo, hi, columns, effects, intensity[bucket], elapsed_s[bucket] or None)``."""
    failure = impact.incident.failure
    start = impact.incident.start_bucket
    found: list[tuple[int, int, npt.NDArray[np.intp], tuple[Effect, ...], F64, I64 | None]] = []
    lo, hi = max(impact.first_bucket, b0), min(impact.precursor_end, b0 + n)
    cols = _present(columns, impact.targets)
    if failure.precursor and lo < hi and cols.size:
        p = precursor_buckets(failure, bucket_seconds)
        ramp = (np.arange(lo, hi, dtype=np.int64) - start + p + 1) / (p + 1)
        found.append((lo, hi, cols, failure.precursor, ramp, None))
    visible = impact.end_bucket - start
    if visible <= 0:
        return found
    for group in impact.groups:
        g = start + group.lag_buckets
        lo, hi = max(g, b0), min(g + visible + settle_buckets(bucket_seconds), b0 + n)
        cols = _present(columns, group.servers)
        if lo >= hi or cols.size == 0:
            continue
        elapsed = np.arange(lo, hi, dtype=np.int64) - g
        elapsed_s = elapsed * bucket_seconds
        if failure.shape in (Shape.SUDDEN, Shape.RAMP):
            onset_s = impact.incident.onset_s
            intensity = np.minimum((elapsed + 1) * bucket_seconds / onset_s, 1.0)
        else:
            intensity = np.ones(elapsed.shape)
        x = np.minimum((elapsed - visible + 1) * bucket_seconds / SETTLE_S, 1.0)
        fade = (1.0 - x) * (1.0 - x) * (1.0 - x)
        intensity = np.where(elapsed >= visible, intensity * fade, intensity)
        found.append((lo, hi, cols, failure.effects_on(group.reach), intensity, elapsed_s))
    return found


def _present(columns: npt.NDArray[np.intp], servers: tuple[int, ...]) -> npt.NDArray[np.intp]:
    cols = columns[np.array(servers, dtype=np.intp)]
    return cols[cols >= 0]
