"""Long ranges for reads: one metric of one server with the detector's bands, downsampled;
the status of every server, bucket by bucket.

``detect`` scores a range in anchored windows (``lib.engine.detection``): each
``ANCHOR_BUCKETS`` chunk is scored by a detector that starts fresh ``WARMUP_BUCKETS`` before
it. Run chunk after chunk, a day costs 48 passes of 1,200 rows, most of it per-row overhead.
Here the chunks run side by side instead, as columns of one ``score_window`` call: the
detector treats columns independently and reads time only through the rows' spacing and their
time-of-day slot, so chunks whose starts lie a whole number of slots apart share one column of
timestamps. Their season offsets are then learned under rotated slot labels, which changes
nothing but the order of a few sums: bands agree with ``detect`` to rounding (about 1e-12).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps

import numpy as np
import numpy.typing as npt

from lib.detect import DEFAULT_PARAMS, Params, SeriesConfigs, score_window
from lib.engine.detection import (
    ANCHOR_BUCKETS,
    METRIC_RULES,
    WARMUP_BUCKETS,
    anchor_of,
    static_scores,
)
from lib.errors import ValidationError
from lib.sim import METRICS, Fleet, Overrides, assess, window

F64 = npt.NDArray[np.float64]
DAY_S = 86_400.0
STATUS_BLOCK_BUCKETS = 1_200
"""Statuses are computed and kept in blocks this long, aligned on multiples of it."""


@dataclass(frozen=True)
class MetricHistory:
    """Points at buckets ``b0 + k * step`` (``k < len(mean)``) summarising ``[b0, b1)``; every
    array is ``float64[points]``; the last point may cover fewer than ``step`` buckets.

    ``mean``/``peak`` summarise the value over each step; ``baseline``, ``warn_upper`` and
    ``crit_upper`` are the bands' means over the step, NaN where no band was in force.
    """

    b0: int
    b1: int
    step: int
    mean: F64
    peak: F64
    baseline: F64
    warn_upper: F64
    crit_upper: F64


def _one_at_a_time[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run by one thread at a time: with a cache behind it, a crowd costs one call."""
    lock = threading.Lock()

    @wraps(fn)
    def serialised(*args: P.args, **kwargs: P.kwargs) -> R:
        with lock:
            return fn(*args, **kwargs)

    return serialised


@_one_at_a_time
@lru_cache(maxsize=128)
def metric_history(
    fleet: Fleet,
    overrides: Overrides,
    server: int,
    metric: int,
    b0: int,
    b1: int,
    step: int,
    *,
    adaptive: bool = True,
    params: Params = DEFAULT_PARAMS,
) -> MetricHistory:
    """Metric ``metric`` of server ``server`` over buckets ``[b0, b1)``, ``step`` buckets a point.

    Bands are those ``detect(fleet, overrides, b0, b1, adaptive=adaptive)`` reports for the
    series, computed for this one series only. Cached, and computed by one thread at a time:
    within a bucket every viewer of a chart asks the same question, and fifty of them arriving
    together must cost one computation, not fifty (treat the arrays as read-only).
    """
    if b1 <= b0 or step < 1:
        raise ValidationError(f"empty range [{b0}, {b1}) or step {step} < 1", field="step")
    if adaptive:
        values, bands = _adaptive(fleet, overrides, server, metric, b0, b1, params)
    else:
        flat = window(fleet, b0, b1, overrides, servers=[server])[:, 0].astype(np.float64)
        _, baseline, warn, crit = static_scores(flat, 1)
        values = flat[:, metric]
        bands = (baseline[:, metric], warn[:, metric], crit[:, metric])
    mean, peak = _downsample(values, step)
    return MetricHistory(b0, b1, step, mean, peak, *(_downsample(b, step)[0] for b in bands))


def _adaptive(
    fleet: Fleet,
    overrides: Overrides,
    server: int,
    metric: int,
    b0: int,
    b1: int,
    params: Params,
) -> tuple[F64, tuple[F64, F64, F64]]:
    first = anchor_of(b0)
    anchors = np.arange(first, b1, ANCHOR_BUCKETS)
    span = WARMUP_BUCKETS + ANCHOR_BUCKETS
    w0 = first - WARMUP_BUCKETS
    raw = window(fleet, w0, b1, overrides, servers=[server])[:, 0, metric].astype(np.float64)
    # The last chunk may end after b1: rows past it are never read back, and the detector
    # never looks ahead, so any padding leaves the rows kept unchanged.
    padded = np.pad(raw, (0, int(anchors[-1]) - first + span - raw.size), mode="edge")
    starts = (anchors - first)[:, None] + np.arange(span)[None, :]
    chunks = padded[starts].T  # [span, chunk]
    out = np.empty((3, ANCHOR_BUCKETS, anchors.size))
    t_start = fleet.epoch_s + (anchors - WARMUP_BUCKETS).astype(np.float64) * fleet.bucket_seconds
    slot_s = DAY_S / params.season_slots
    phase = t_start % slot_s if slot_s.is_integer() else t_start
    config = SeriesConfigs.of([METRIC_RULES[METRICS[metric]]])
    for key in np.unique(phase):
        group = np.flatnonzero(phase == key)
        timestamps = t_start[group[0]] + np.arange(span, dtype=np.float64) * fleet.bucket_seconds
        configs = SeriesConfigs(
            np.repeat(config.direction, group.size), np.repeat(config.floors, group.size, 0)
        )
        scored = score_window(chunks[:, group], timestamps, params, configs=configs)
        for k, band in enumerate((scored.baseline, scored.warn_upper, scored.crit_upper)):
            out[k][:, group] = band[WARMUP_BUCKETS:]
    keep = slice(b0 - first, b1 - first)
    baseline, warn, crit = (out[k].T.reshape(-1)[keep] for k in range(3))
    return raw[b0 - w0 :], (baseline, warn, crit)


def _downsample(x: F64, step: int) -> tuple[F64, F64]:
    """Mean and max of ``x`` over consecutive groups of ``step`` (the last may be shorter),
    ignoring NaN; NaN for a group with no number. A ``step`` past the end is one group."""
    step = max(1, min(step, x.size))
    points = math.ceil(x.size / step)
    grid = np.full(points * step, np.nan)
    grid[: x.size] = x
    grid = grid.reshape(points, step)
    finite = np.isfinite(grid)
    count = finite.sum(axis=1)
    total = np.where(finite, grid, 0.0).sum(axis=1)
    mean = np.divide(total, count, out=np.full(points, np.nan), where=count > 0)
    peak = np.where(count > 0, np.where(finite, grid, -np.inf).max(axis=1), np.nan)
    return mean, peak


def status_history(fleet: Fleet, overrides: Overrides, b0: int, b1: int) -> npt.NDArray[np.int8]:
    """``int8[bucket, server]`` statuses (indices into ``SERVER_STATUSES``) of ``[b0, b1)``.

    Aligned blocks are kept (per fleet and overrides, most recently used first): a day asked
    for again in the same hour computes one block, not 24.
    """
    if b1 <= b0:
        return np.empty((0, fleet.size), np.int8)
    first, last = b0 // STATUS_BLOCK_BUCKETS, (b1 - 1) // STATUS_BLOCK_BUCKETS
    blocks = [_status_block(fleet, overrides, k) for k in range(first, last + 1)]
    start = b0 - first * STATUS_BLOCK_BUCKETS
    return np.concatenate(blocks)[start : start + b1 - b0]


@lru_cache(maxsize=256)
def _status_block(fleet: Fleet, overrides: Overrides, block: int) -> npt.NDArray[np.int8]:
    b0 = block * STATUS_BLOCK_BUCKETS
    status, _ = assess(fleet, window(fleet, b0, b0 + STATUS_BLOCK_BUCKETS, overrides))
    status.flags.writeable = False
    return status
