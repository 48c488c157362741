"""The fleet as the detector sees it: pure functions of (fleet, overrides, bucket range).

A simulated server's detector state is not kept anywhere: it is recomputed from the window,
which random access makes cheap. To make the score of a bucket independent of how calls
chunk time, the window behind bucket ``b`` always starts at the same place: ``anchor(b) -
WARMUP_BUCKETS``, where ``anchor(b)`` is ``b`` rounded down to ``ANCHOR_BUCKETS``. Two
functions scoring the same bucket see the same samples and give the same score.

Scoring the whole window for every new bucket costs up to ``WARMUP_BUCKETS +
ANCHOR_BUCKETS`` rows per call (seconds at a thousand servers). The adaptive detector's state
at a refresh boundary of the window is a pure function of the same inputs, and resuming from
it repeats the same arithmetic bit for bit (the detector's stretches end there), so the
latest such states are memoised (``Checkpoints``): the next bucket costs the rows since the
last boundary. A cache only: results are identical with or without it.

The product's scorer also runs the shift detector (``lib.engine.shift``: small sustained
shifts the adaptive bands tolerate); its state travels with the adaptive one in
``ScorerState``, and a series' score is the higher of the two.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from lib.detect import (
    DEFAULT_PARAMS,
    Direction,
    Params,
    SeriesConfig,
    SeriesConfigs,
    levels_of,
    score_window,
)
from lib.detect.state import State
from lib.engine.shift import ALARM_SCORE, DEFAULT_SHIFT, ShiftParams, ShiftState, shift_scores
from lib.sim import METRICS, SERVER_STATUSES, Fleet, Overrides, assess, window

ANCHOR_BUCKETS = 600
"""Windows start on multiples of this (30 min at 3 s)."""
WARMUP_BUCKETS = 600
"""Samples the detector learns from before the anchor (30 min at 3 s)."""

NAN = math.nan
F64 = npt.NDArray[np.float64]

# Direction and absolute floors per metric: what is bad whatever the history says.
# Floors are set above what a healthy server of any role reaches at its daily peak.
METRIC_RULES: dict[str, SeriesConfig] = {
    "cpu_pct": SeriesConfig(Direction.HIGH, warn_above=92.0, crit_above=97.0),
    "memory_pct": SeriesConfig(Direction.HIGH, warn_above=95.0, crit_above=98.0),
    "disk_pct": SeriesConfig(Direction.HIGH, warn_above=90.0, crit_above=95.0),
    "net_in_mbps": SeriesConfig(Direction.BOTH),
    "net_out_mbps": SeriesConfig(Direction.HIGH),
    "net_latency_ms": SeriesConfig(Direction.HIGH),
    "packet_loss_pct": SeriesConfig(Direction.HIGH, warn_above=2.0, crit_above=5.0),
    "response_ms": SeriesConfig(Direction.HIGH),
    "rps": SeriesConfig(Direction.BOTH),
    "error_pct": SeriesConfig(Direction.HIGH, warn_above=5.0, crit_above=10.0),
    "load1": SeriesConfig(Direction.HIGH),
    "connections": SeriesConfig(Direction.BOTH),
}

OFFLINE_METRICS = ("rps", "connections")
"""Where an offline server's alert lives: the traffic it no longer serves."""

ALERT_SCORE = 0.7
"""Score at which a series counts toward an alert: clearly past the warning band (0.5), so
a healthy series grazing its band does not page anyone. An absolute floor counts at once."""

STATIC_WARNING, STATIC_CRITICAL = 80.0, 90.0
"""The thresholds used when adaptive thresholds are switched off (percent metrics only)."""


@dataclass(frozen=True)
class Detection:
    """Detector output for buckets ``b0 .. b0 + T - 1`` of every server and metric.

    ``values``: float32[T, server, metric]; ``score``: float64[T, server × metric];
    ``level``: int8[T, server × metric] (0 normal, 1 warning, 2 critical);
    ``warn_upper``/``crit_upper``: float64[T, server × metric] thresholds in force (NaN: none);
    ``status``: int8[T, server] indices into ``lib.sim.SERVER_STATUSES``;
    ``health``: float32[T, server].
    """

    b0: int
    values: npt.NDArray[np.float32]
    score: npt.NDArray[np.float64]
    level: npt.NDArray[np.int8]
    baseline: npt.NDArray[np.float64]
    warn_upper: npt.NDArray[np.float64]
    crit_upper: npt.NDArray[np.float64]
    status: npt.NDArray[np.int8]
    health: npt.NDArray[np.float32]

    @property
    def b1(self) -> int:
        return self.b0 + self.values.shape[0]


def alert_levels(det: Detection) -> npt.NDArray[np.int8]:
    """int8[T, series]: the detector's level where it counts toward an alert, else 0.

    A series counts when its score reaches ``ALERT_SCORE`` or its value is past one of its
    metric's absolute floors; the level (warning 1, critical 2) is the detector's. A server
    that stops answering (status offline) is critical on its traffic metrics, whatever the
    detector makes of a quiet hour.
    """
    n_servers = det.values.shape[1]
    configs = fleet_configs(n_servers)
    flat = det.values.reshape(det.values.shape[0], -1)
    with np.errstate(invalid="ignore"):
        floored = (flat >= configs.floors[:, 0]) | (flat >= configs.floors[:, 1])
    counts = (det.score >= ALERT_SCORE) | floored
    levels = np.where(counts, np.maximum(det.level, 1), 0).astype(np.int8)
    offline = np.repeat(det.status == SERVER_STATUSES.index("offline"), len(METRICS), axis=1)
    traffic = np.tile(np.isin(METRICS, OFFLINE_METRICS), n_servers)
    levels[offline & traffic] = 2
    return levels


@cache
def fleet_configs(n_servers: int) -> SeriesConfigs:
    """Series configuration for a fleet, series ``s = server × len(METRICS) + metric``."""
    return SeriesConfigs.of([METRIC_RULES[m] for m in METRICS] * n_servers)


def anchor_of(bucket: int) -> int:
    return bucket - bucket % ANCHOR_BUCKETS


Scorer = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], int], tuple[F64, ...]]
"""``(values float64[T, S], timestamps float64[T], n_servers) -> (score, baseline, warn_upper,
crit_upper)``, each float64[T, S]; row ``i`` may use rows ``<= i`` only."""


@dataclass(frozen=True)
class ScorerState:
    """What ``AdaptiveScorer`` learned: the adaptive detector's state and the shift
    detector's (``None`` when it is off). Treat as immutable."""

    adaptive: State
    shift: ShiftState | None

    @property
    def nbytes(self) -> int:
        return self.adaptive.data.nbytes + (self.shift.nbytes if self.shift else 0)


@dataclass(frozen=True)
class AdaptiveScorer:
    """The product's detector (``lib.detect``) with the fleet's per-metric rules, and the
    shift detector (``lib.engine.shift``) for small sustained shifts unless ``shift`` is None:
    a series' score is the higher of the two.

    A ``Scorer``; ``resume`` also continues from a detector state and returns the next one.
    """

    params: Params = DEFAULT_PARAMS
    shift: ShiftParams | None = DEFAULT_SHIFT

    def __call__(self, flat: F64, timestamps: F64, n_servers: int) -> tuple[F64, ...]:
        return self.resume(flat, timestamps, n_servers, None)[0]

    def resume(
        self, flat: F64, timestamps: F64, n_servers: int, state: ScorerState | None
    ) -> tuple[tuple[F64, ...], ScorerState]:
        s = score_window(
            flat,
            timestamps,
            self.params,
            configs=fleet_configs(n_servers),
            state=state.adaptive if state else None,
        )
        if self.shift is None:
            return (s.score, s.baseline, s.warn_upper, s.crit_upper), ScorerState(s.state, None)
        shifted = shift_scores(flat, n_servers, state.shift if state else None, self.shift)
        # Where the shift detector alone alarms, its limit is the warning threshold in force.
        alarmed = (shifted.score >= ALARM_SCORE) & (shifted.score > s.score)
        warn = np.where(alarmed, shifted.limit, s.warn_upper)
        score = np.maximum(s.score, shifted.score)
        return (score, s.baseline, warn, s.crit_upper), ScorerState(s.state, shifted.state)


def adaptive_scorer(
    params: Params = DEFAULT_PARAMS, shift: ShiftParams | None = DEFAULT_SHIFT
) -> Scorer:
    """The product's detector (``lib.detect``) with the fleet's per-metric rules."""
    return AdaptiveScorer(params, shift)


class Checkpoints:
    """The detector's state at recent refresh boundaries of anchored windows, newest kept.

    Keyed by fleet (identity), overrides, scorer and window start; each entry says "the
    state after the rows before ``bucket``". At most ``size`` states and ``max_bytes`` in all
    (a state is ~11.6 kB a server: 12 series of 944 bytes, and 240 for the shift detector; a
    fleet too large for the budget is not memoised). Thread-safe; states are never mutated
    (both detectors copy the state they start from).
    """

    def __init__(self, size: int = 6, max_bytes: int = 256 << 20) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[Fleet, int, ScorerState]] = OrderedDict()

    @staticmethod
    def _key(
        fleet: Fleet, overrides: Overrides, scorer: AdaptiveScorer, w0: int, bucket: int
    ) -> Hashable:
        return (id(fleet), overrides, scorer, w0, bucket)

    def latest(
        self, fleet: Fleet, overrides: Overrides, scorer: AdaptiveScorer, w0: int, b0: int
    ) -> tuple[int, ScorerState | None]:
        """The latest checkpoint at or before ``b0`` in the window from ``w0``, else (w0, None)."""
        best: tuple[int, ScorerState | None] = (w0, None)
        with self._lock:
            for key, (owner, bucket, state) in self._items.items():
                if owner is not fleet or not w0 < bucket <= b0 or bucket <= best[0]:
                    continue
                if key == self._key(fleet, overrides, scorer, w0, bucket):
                    best = (bucket, state)
        return best

    def put(
        self,
        fleet: Fleet,
        overrides: Overrides,
        scorer: AdaptiveScorer,
        w0: int,
        bucket: int,
        state: ScorerState,
    ) -> None:
        if state.nbytes > self.max_bytes:
            return
        key = self._key(fleet, overrides, scorer, w0, bucket)
        with self._lock:
            self._items[key] = (fleet, bucket, state)
            self._items.move_to_end(key)
            while len(self._items) > self.size or self.nbytes > self.max_bytes:
                self._items.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(state.nbytes for _, _, state in self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CHECKPOINTS = Checkpoints()


def static_scorer(flat: F64, timestamps: F64, n_servers: int) -> tuple[F64, ...]:
    """Fixed thresholds, for ``ADAPTIVE_THRESHOLDS=false``."""
    return static_scores(flat, n_servers)


def detect(
    fleet: Fleet,
    overrides: Overrides,
    b0: int,
    b1: int,
    *,
    adaptive: bool = True,
    scorer: Scorer | None = None,
) -> Detection:
    """Score every server and metric for buckets ``b0 <= b < b1``.

    ``scorer`` replaces the detector (benchmarks compare baselines through the same
    pipeline); by default the adaptive detector, or fixed thresholds when not ``adaptive``.
    """
    if scorer is None:
        scorer = ADAPTIVE if adaptive else static_scorer
    n_metrics = len(METRICS)
    parts: list[Detection] = []
    start = b0
    while start < b1:
        anchor = anchor_of(start)
        stop = min(b1, anchor + ANCHOR_BUCKETS)
        parts.append(_detect_anchored(fleet, overrides, anchor, start, stop, scorer))
        start = stop
    if len(parts) == 1:
        return parts[0]
    if not parts:
        empty = np.empty((0, fleet.size * n_metrics))
        return Detection(
            b0,
            np.empty((0, fleet.size, n_metrics), np.float32),
            empty,
            empty.astype(np.int8),
            empty,
            empty,
            empty,
            np.empty((0, fleet.size), np.int8),
            np.empty((0, fleet.size), np.float32),
        )
    return Detection(
        b0,
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in (
                "values",
                "score",
                "level",
                "baseline",
                "warn_upper",
                "crit_upper",
                "status",
                "health",
            )
        ),
    )


def _detect_anchored(
    fleet: Fleet, overrides: Overrides, anchor: int, b0: int, b1: int, scorer: Scorer
) -> Detection:
    w0 = anchor - WARMUP_BUCKETS
    start, state = w0, None
    if isinstance(scorer, AdaptiveScorer):
        start, state = CHECKPOINTS.latest(fleet, overrides, scorer, w0, b0)
    values = window(fleet, start, b1, overrides)
    status, health = assess(fleet, values[b0 - start :])
    flat = values.reshape(values.shape[0], -1).astype(np.float64)
    timestamps = fleet.epoch_s + np.arange(start, b1, dtype=np.float64) * fleet.bucket_seconds
    if isinstance(scorer, AdaptiveScorer):
        scored = _resume_checkpointed(fleet, overrides, scorer, w0, start, state, flat, timestamps)
    else:
        scored = scorer(flat, timestamps, fleet.size)
    keep = slice(b0 - start, None)
    score, baseline, warn, crit = (a[keep] for a in scored)
    return Detection(
        b0=b0,
        values=values[b0 - start :],
        score=score,
        level=levels_of(score),
        baseline=baseline,
        warn_upper=warn,
        crit_upper=crit,
        status=status,
        health=health,
    )


def _resume_checkpointed(
    fleet: Fleet,
    overrides: Overrides,
    scorer: AdaptiveScorer,
    w0: int,
    start: int,
    state: ScorerState | None,
    flat: F64,
    timestamps: F64,
) -> tuple[F64, ...]:
    """Score rows ``start ..`` from ``state``, split at the window's last refresh boundary
    so that the state there can be kept for the next call."""
    every = scorer.params.refresh
    b1 = start + flat.shape[0]
    boundary = w0 + (b1 - w0) // every * every
    if boundary <= start:
        return scorer.resume(flat, timestamps, fleet.size, state)[0]
    cut = boundary - start
    head, state = scorer.resume(flat[:cut], timestamps[:cut], fleet.size, state)
    CHECKPOINTS.put(fleet, overrides, scorer, w0, boundary, state)
    if cut == flat.shape[0]:
        return head
    tail, _ = scorer.resume(flat[cut:], timestamps[cut:], fleet.size, state)
    return tuple(np.concatenate(pair) for pair in zip(head, tail, strict=True))


def static_scores(flat: F64, n_servers: int) -> tuple[F64, ...]:
    """The classic fixed thresholds (warning 80, critical 90) on percentage metrics only.

    Scores follow the detector's scale: 0.5 at the warning threshold, 0.8 at critical.
    """
    from lib.sim import PERCENT_METRICS

    percent = np.array([m in PERCENT_METRICS and m != "packet_loss_pct" for m in METRICS])
    mask = np.tile(percent, n_servers)
    score = np.where(
        flat >= STATIC_CRITICAL,
        0.8 + 0.2 * np.clip((flat - STATIC_CRITICAL) / (100 - STATIC_CRITICAL), 0, 1),
        np.where(
            flat >= STATIC_WARNING,
            0.5 + 0.3 * (flat - STATIC_WARNING) / (STATIC_CRITICAL - STATIC_WARNING),
            0.5 * np.clip(flat / STATIC_WARNING, 0, 1) ** 2,
        ),
    )
    score = np.where(mask, score, 0.0)
    warn = np.where(mask, STATIC_WARNING, NAN) * np.ones_like(flat)
    crit = np.where(mask, STATIC_CRITICAL, NAN) * np.ones_like(flat)
    return score, np.full_like(flat, NAN), warn, crit


ADAPTIVE = adaptive_scorer()
