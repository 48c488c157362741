"""One stretch of samples through the detector's recurrences, vectorised over series and time.

The detector is a set of per-sample recurrences. What would make them non-linear within a
stretch (the clipping bounds of the robust baseline, the season offsets, the decay of the
remembered extremes) changes only every ``Params.refresh`` samples, counted from each series'
first sample. Between refreshes every recurrence is an EW mean or a running max, so a stretch
is a few matrix products and prefix maxima over its rows instead of a Python loop over samples;
streaming one sample at a time walks the same arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.detect import state as col
from lib.detect.params import Params

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

# Mean absolute deviation × this ≈ standard deviation, for Gaussian noise.
_MAD_TO_SIGMA = math.sqrt(math.pi / 2.0)
# Relative float precision below which a band or a season is not told from rounding.
_PRECISION = 1e-9


@dataclass(frozen=True)
class Outputs:
    """Per-row results over the whole window, float64[T, S], filled stretch by stretch."""

    centre: F64  # band centre: deseasonalised baseline projected along the trend
    offset: F64  # season offset in force
    strength: F64  # max over channels and allowed sides of distance / warning distance
    severity: F64  # the value's distance from the centre in statistical half-widths (1 at least
    # where the stuck channel detects)
    up_dist: F64  # warning distance above the centre, value channel
    down_dist: F64  # warning distance below the centre, value channel

    @classmethod
    def empty(cls, n_rows: int, n_series: int) -> Outputs:
        shape = (n_rows, n_series)
        return cls(*(np.empty(shape) for _ in range(6)))


@dataclass(frozen=True)
class Calendar:
    """Where rows fall in time: slot of the day, weekday, what each season learns, the gaps."""

    slot: npt.NDArray[np.intp]  # [L] time-of-day slot
    weekday: npt.NDArray[np.intp]  # [L] 0 is Monday
    day_rate: F64  # [L, S] share of a slot's offset learned from the row
    week_rate: F64  # [L, S] share of a weekday's offset learned from the row
    gap: F64  # [L, S] seconds since the series' previous row (0 for its first)

    def __getitem__(self, rows: slice) -> Calendar:
        return Calendar(
            self.slot[rows],
            self.weekday[rows],
            self.day_rate[rows],
            self.week_rate[rows],
            self.gap[rows],
        )


@dataclass(frozen=True)
class Ewma:
    """Lower-triangular weights turning a stretch into its EW mean: ``m = W @ x + c·m0``."""

    rate: float
    weights: F64  # [L, L]
    carry: F64  # [L, 1]

    @classmethod
    def of(cls, rate: float, length: int) -> Ewma:
        lag = np.subtract.outer(np.arange(length), np.arange(length))
        weights = np.where(lag >= 0, rate * (1.0 - rate) ** np.maximum(lag, 0), 0.0)
        return cls(rate, weights, ((1.0 - rate) ** np.arange(1.0, length + 1.0))[:, None])

    def run(self, x: F64, start: F64) -> F64:
        n = x.shape[0]
        return self.weights[:n, :n] @ x + self.carry[:n] * start


@dataclass(frozen=True)
class Kernels:
    """Per-call constants shared by every stretch."""

    level: Ewma
    trend: Ewma
    fast: Ewma
    channel_scale: tuple[float, ...]  # statistical half-width of each channel over the value's
    clipped_mad: float  # mean |residual| clipped at ``winsor`` spreads over the unclipped mean
    log_rare: float  # log of the chance of something seen once per envelope half-life
    envelope_keep: float  # share of its distance to the baseline an extreme keeps per refresh
    fade_keep: float  # the same for an extreme the series has left

    @classmethod
    def of(cls, params: Params, length: int) -> Kernels:
        f = params.fast_rate
        # The median of 3 is treated as noisy as the value itself; an EW mean is quieter.
        scale = (1.0, 1.0, math.sqrt(f / (2 - f)))
        return cls(
            Ewma.of(params.level_rate, length),
            Ewma.of(params.trend_rate, length),
            Ewma.of(f, length),
            scale,
            clipped_mad(params.winsor),
            -math.log(params.envelope_half_life),
            0.5 ** (params.refresh / params.envelope_half_life),
            0.5 ** (params.refresh / params.envelope_fade),
        )


def clipped_mad(winsor: float) -> float:
    """``E|clip(e, ±winsor·E|e|)| / E|e|`` for Gaussian ``e``.

    The spread is learned from residuals clipped at ``winsor`` spreads, which shrinks it: left
    alone it settles about 25 % low at ``winsor`` 1.5, and the band with it. Dividing by this
    factor keeps the spread an estimate of the unclipped one whatever ``winsor`` is.
    """
    mad = math.sqrt(2.0 / math.pi)
    c = winsor * mad
    density = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    tail = 0.5 * math.erfc(c / math.sqrt(2.0))
    return (2.0 * (1.0 / math.sqrt(2.0 * math.pi) - density) + 2.0 * c * tail) / mad


def initialise(st: F64, fresh: BOOL, first: F64) -> None:
    """Start series that have seen nothing from their first value."""
    if not fresh.any():
        return
    v = first[fresh]
    for c in (col.LEVEL, col.CLIP_CENTRE, col.PREV1, col.PREV2, col.FAST):
        st[fresh, c] = v
    st[fresh, col.ENV_HI] = v[:, None]
    st[fresh, col.ENV_LO] = v[:, None]


def refresh(st: F64, due: BOOL, params: Params, kernels: Kernels) -> None:
    """Bring pending season updates into force, decay the extremes, reset the clipping bounds."""
    if not due.any():
        return
    k = params.season_slots
    everyone = bool(due.all())
    rows = st if everyone else st[due]
    offsets, pending = col.offsets(k), col.pending(k)
    season = rows[:, offsets] + rows[:, pending]
    # Each season's offsets sum to zero over its period; what they shared (as far as it was
    # applied) moves into the baseline, and every quantity kept in deseasonalised units with it.
    daily, weekly = season[:, :k], season[:, k:]
    shared_daily, shared_weekly = daily.mean(axis=1), weekly.mean(axis=1)
    daily -= shared_daily[:, None]
    weekly -= shared_weekly[:, None]
    rows[:, offsets] = season
    rows[:, pending] = 0.0
    shared = shared_daily * rows[:, col.SEASON_WEIGHT] + shared_weekly * rows[:, col.WEEK_WEIGHT]
    for c in (col.LEVEL, col.PREV1, col.PREV2, col.FAST):
        rows[:, c] += shared
    for c, offsets_of in ((col.SEASON_WEIGHT, daily), (col.WEEK_WEIGHT, weekly)):
        rows[:, c] = _season_weight(
            offsets_of, rows[:, col.SPREAD], rows[:, col.LEVEL], params.season_rate
        )
    level = rows[:, col.LEVEL][:, None]
    for extremes, idle in ((col.ENV_HI, col.IDLE_HI), (col.ENV_LO, col.IDLE_LO)):
        left = rows[:, idle] >= params.envelope_idle
        keep = np.where(left, kernels.fade_keep, kernels.envelope_keep)[:, None]
        rows[:, extremes] = level + keep * (rows[:, extremes] + shared[:, None] - level)
    rows[:, col.RUN_RECORD] *= kernels.envelope_keep
    rows[:, col.CLIP_CENTRE] = rows[:, col.LEVEL]
    warm = rows[:, col.N_SEEN] >= params.warmup
    rows[:, col.CLIP_RADIUS] = np.where(warm, params.winsor * rows[:, col.SPREAD], np.inf)
    if not everyone:
        st[due] = rows


def _season_weight(season: F64, spread: F64, level: F64, rate: float) -> F64:
    """How much of the learned season to apply: the share of its variance that is not the
    noise of learning it.

    Each offset is an EW mean, at ``rate`` per period, of what the baseline misses in its slot;
    learned from noise alone it still varies by ``rate / (2 - rate)`` of the noise's variance
    (counted as if a slot saw one independent sample a period: the cautious bound). A series
    with no such shape gets a weight near 0, one with a shape well above that noise near 1. Below
    float precision (a series constant but for rounding) there is no shape.
    """
    signal = np.mean(season * season, axis=1)
    noise = rate / (2.0 - rate) * (_MAD_TO_SIGMA * spread) ** 2
    noise = np.maximum(noise, (_PRECISION * np.abs(level)) ** 2 + 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = 1.0 - noise / signal
    return np.clip(np.nan_to_num(weight, nan=0.0, neginf=0.0), 0.0, 1.0)


def _ew_mean(rate: F64 | None, steady: Ewma, x: F64, start: F64) -> F64:
    """EW mean with a per-row rate, or ``steady``'s when ``rate`` is None."""
    if rate is None:
        return steady.run(x, start)
    growth = np.cumprod(1.0 - rate, axis=0)
    return growth * (start + np.cumsum(rate * x / growth, axis=0))


def _samples_covered(st: F64, gap: F64, level: Ewma) -> F64 | None:
    """How many samples' time each row stands for: 1, or its gap over the typical interval
    after a gap longer than 1.5 intervals; None when every row stands for one.

    Updates the typical interval: an EW geometric mean (at the baseline's rate) of the gaps,
    which a few long gaps move little; a series' first gap sets it. Jittered timestamps keep
    one sample per row; rows missing from an export count.
    """
    known = st[:, col.INTERVAL].copy()
    seen = gap > 0.0
    start = known
    if not (known > 0.0).all():
        at = np.argmax(seen, axis=0)
        first = np.where(seen.any(axis=0), gap[at, np.arange(gap.shape[1])], 0.0)
        start = np.where(known > 0.0, known, first)
    if (gap == start).all():
        st[:, col.INTERVAL] = start
        return None
    logs = np.log(np.where(seen, gap, 1.0))
    learn = np.where(seen & (start > 0.0), level.rate, 0.0)
    with np.errstate(divide="ignore"):
        log_start = np.log(start)
    interval = np.exp(_ew_mean(learn, level, logs, log_start))
    interval = np.where(start > 0.0, interval, 0.0)
    st[:, col.INTERVAL] = interval[-1]
    before = _shift(start, interval)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = gap / before
    covered = np.where(ratio > 1.5, ratio, 1.0)
    return None if (covered == 1.0).all() else covered


def _at(offsets: F64, index: npt.NDArray[np.intp]) -> F64:
    """Each row's offset: float64[S] when the stretch stays in one slot, else [L, S]."""
    if (index == index[0]).all():
        return offsets[:, index[0]]
    return offsets[:, index].T


def _shift(start: F64, after: F64) -> F64:
    """Values before each row, given the value before the stretch and after each row."""
    return np.concatenate((start[None], after[:-1]))


def _running(op: np.ufunc, x: F64) -> None:
    """Inclusive running ``op`` along axis 0, in place (exact: the method cannot matter)."""
    if x[0].size < 64:
        op.accumulate(x, axis=0, out=x)
        return
    # numpy accumulates across rows one column at a time: slow for wide rows.
    for i in range(1, x.shape[0]):
        op(x[i - 1], x[i], out=x[i])


def _distances(
    hi: F64,
    lo: F64,
    centre: F64,
    half_width: F64,
    params: Params,
    out: tuple[F64, F64] | None = None,
) -> tuple[F64, F64]:
    """Warning distances above and below the centre: beyond the extremes by a margin of their
    range, and at least the statistical half-width."""
    up = np.subtract(hi, centre, out=None if out is None else out[0])
    down = np.subtract(centre, lo, out=None if out is None else out[1])
    margin = up + down
    margin *= params.envelope_margin
    up += margin
    down += margin
    return np.maximum(up, half_width, out=up), np.maximum(down, half_width, out=down)


def _reach_extremes(
    strength: F64,
    channels: tuple[F64, ...],
    hi: F64,
    lo: F64,
    centre: F64,
    half_width: F64,
    sides: tuple[BOOL, BOOL],
    scored: BOOL | bool,
    params: Params,
    kernels: Kernels,
) -> None:
    """Raise ``strength`` where the median or fast channel goes beyond its own band.

    Below their bands these channels do not count: the value alone says how close to its band
    a sample is. A channel can only pass its band at a new extreme, and those are rare: they
    are found first and scored alone.
    """
    for c, values in enumerate(channels, start=1):
        for extreme, side, on in ((hi[:, c], 0, sides[0]), (lo[:, c], 1, sides[1])):
            if not on.any():
                continue
            new = extreme[1:] != extreme[:-1]
            if not (on.all() and scored is True):
                new &= on & scored
            at = np.nonzero(new)
            if at[0].size == 0:
                continue
            floor = kernels.channel_scale[c] * half_width[at]
            width = _distances(hi[:-1, c][at], lo[:-1, c][at], centre[at], floor, params)[side]
            deviation = values[at] - centre[at]
            reach = (deviation if side == 0 else -deviation) / width
            beyond = reach >= 1.0
            if beyond.any():
                where = (at[0][beyond], at[1][beyond])
                strength[where] = np.maximum(strength[where], reach[beyond])


def _count_idle(st: F64, y: F64, hi: F64, lo: F64, centre: F64, params: Params) -> None:
    """Update how many samples it is since the value came near its remembered high and low
    (within ``envelope_near`` of their range), given the extremes before each row."""
    n_rows = y.shape[0]
    # Rounding must not decide whether a series constant so far came near its extremes.
    near = params.envelope_near * (hi - lo) + (_PRECISION * np.abs(centre) + 1e-300)
    row = np.arange(n_rows)[:, None]
    for idle, came in ((col.IDLE_HI, y >= hi - near), (col.IDLE_LO, y <= lo + near)):
        last = np.where(came, row, -1).max(axis=0)
        st[:, idle] = np.where(last >= 0, n_rows - 1 - last, st[:, idle] + n_rows)


def _repeat_strength(st: F64, x: F64, rate: F64 | None, kernels: Kernels, params: Params) -> F64:
    """The stuck channel: how far a run of repeated raw values goes beyond what is usual.

    A run (the value equal to the one before, ``r`` times in a row) is anomalous when it is
    longer than the longest run remembered (by ``envelope_margin`` of it and one sample) and
    rarer than once in the memory of the extremes: ``p^r`` below ``1 / envelope_half_life``,
    ``p`` the share of samples that repeat the one before. A series that often repeats itself
    (counters, rounded percentages) needs a long run; one whose values never repeat is stuck
    after three. Updates the channel's columns of ``st``.
    """
    n_rows = x.shape[0]
    same = x == _shift(st[:, col.RAW_PREV], x)
    row = np.arange(n_rows)[:, None]
    reset = np.where(same, -1, row)
    _running(np.maximum, reset)
    started = reset >= 0
    run = np.where(started, row - reset, st[:, col.RUN] + row + 1).astype(np.float64)
    repeats = _ew_mean(rate, kernels.level, same.astype(np.float64), st[:, col.P_REPEAT])
    p = np.clip(_shift(st[:, col.P_REPEAT], repeats), params.level_rate, 1.0 - 1e-9)
    # A run is judged by how likely it was when it began: the run itself, repeating, would
    # otherwise teach ``p`` that repeats are usual. Runs that began in the warm-up, before
    # there was anything to judge by, are judged as they go.
    live = kernels.log_rare / np.log(p)
    at_start = np.take_along_axis(live, np.maximum(reset, 0), axis=0)
    warm = st[:, col.N_SEEN] + reset >= params.warmup
    as_begun = np.where(started, np.where(warm, at_start, np.nan), st[:, col.RUN_FLOOR])
    floor = np.where(np.isnan(as_begun), live, as_begun)
    # The record holds the runs that ended before this one, stuck or not: a series that idles
    # at one value for long stretches (a disk writing nothing) learns that it does.
    record = np.empty((n_rows + 1, x.shape[1]))
    record[0] = st[:, col.RUN_RECORD]
    record[1:] = np.where(same, 0.0, _shift(st[:, col.RUN], run))
    _running(np.maximum, record)
    limit = np.maximum(record[1:] * (1.0 + params.envelope_margin) + 1.0, floor)

    st[:, col.RAW_PREV] = x[-1]
    st[:, col.RUN] = run[-1]
    st[:, col.RUN_RECORD] = record[-1]
    st[:, col.P_REPEAT] = repeats[-1]
    st[:, col.RUN_FLOOR] = as_begun[-1]
    return run / limit


def advance(
    st: F64,
    rows: slice,
    x: F64,
    cal: Calendar,
    sides: tuple[BOOL, BOOL],
    params: Params,
    kernels: Kernels,
    out: Outputs,
) -> None:
    """Run one stretch (no refresh inside) for every series, updating ``st`` in place.

    ``x`` is this stretch's float64[L, S] and ``cal`` its calendar; ``sides`` says per series
    whether high and low departures count. Writes ``out[rows]``.
    """
    n_rows, n_series = x.shape
    first_seen = st[:, col.N_SEEN]
    rate = None
    if first_seen.min() < 1.0 / params.level_rate:
        seen = first_seen + np.arange(n_rows)[:, None]
        # A series' first sample initialised the baseline; it is not averaged in again.
        rate = np.maximum(params.level_rate, 1.0 / (seen + 1.0)) * (seen > 0)
    covered = _samples_covered(st, cal.gap, kernels.level)
    if covered is not None:
        # After a gap the baseline learns as if from every sample missed, up to half of what
        # it knew (a rate of 1 would divide by 0 in ``_ew_mean``).
        steady = params.level_rate if rate is None else rate
        rate = np.minimum(1.0 - (1.0 - steady) ** covered, 0.5) * (steady > 0)

    k = params.season_slots
    season = st[:, col.offsets(k)]
    daily = _at(season, cal.slot)
    weekly = _at(season, k + cal.weekday)
    w_daily, w_weekly = st[:, col.SEASON_WEIGHT], st[:, col.WEEK_WEIGHT]
    applied = daily * w_daily + weekly * w_weekly
    y = x - applied
    centre_f, radius_f = st[:, col.CLIP_CENTRE], st[:, col.CLIP_RADIUS]
    w = np.clip(y, centre_f - radius_f, centre_f + radius_f)

    level = _ew_mean(rate, kernels.level, w, st[:, col.LEVEL])
    level_before = _shift(st[:, col.LEVEL], level)
    # Unclipped residuals while warming up (infinite radius) need no correction.
    shrink = np.where(np.isfinite(radius_f), kernels.clipped_mad, 1.0)
    spread = _ew_mean(rate, kernels.level, np.abs(w - centre_f) / shrink, st[:, col.SPREAD])
    trend = kernels.trend.run(level - level_before, st[:, col.TREND])
    centre = level_before + params.trend_horizon * _shift(st[:, col.TREND], trend)
    # Statistical half-width of the value's band; never zero, even for a series constant
    # to float precision.
    half_width = np.maximum(
        (params.band_sigmas * _MAD_TO_SIGMA) * _shift(st[:, col.SPREAD], spread),
        _PRECISION * np.abs(centre) + 1e-300,
    )

    # The season learns from residuals clipped more loosely than the baseline's: a daily shape
    # can be many spreads tall, and one sample moves a slot little anyway.
    loose = radius_f * (params.season_winsor / params.winsor)
    # Each season learns what the baseline and the other season (as far as applied) miss, as if
    # it were fully applied itself, whatever share of it is.
    missed = x - applied - level_before
    pending = st[:, col.pending(k)]
    for offset, weight, learns, index in (
        (daily, w_daily, cal.day_rate, cal.slot),
        (weekly, w_weekly, cal.week_rate, k + cal.weekday),
    ):
        residual = learns * np.clip(missed - (1.0 - weight) * offset, -loose, loose)
        for i in np.unique(index):
            pending[:, i] += residual[index == i].sum(axis=0)

    old = _shift(st[:, col.PREV1], y)
    older = _shift(st[:, col.PREV2], old)
    median = np.maximum(np.minimum(y, old), np.minimum(np.maximum(y, old), older))
    fast = kernels.fast.run(y, st[:, col.FAST])
    # Row 0 the remembered extremes, then the rows, of each channel (value, median of 3, fast
    # EW); running max/min turn them into the extremes after each row.
    hi = np.empty((n_rows + 1, col.N_CHANNELS, n_series))
    hi[0] = st[:, col.ENV_HI].T
    hi[1:, 0] = y
    hi[1:, 1] = median
    hi[1:, 2] = fast
    lo = hi.copy()
    lo[0] = st[:, col.ENV_LO].T
    _running(np.maximum, hi)
    _running(np.minimum, lo)

    _count_idle(st, y, hi[:-1, 0], lo[:-1, 0], centre, params)

    up_on, down_on = sides
    up_dist, down_dist = _distances(
        hi[:-1, 0], lo[:-1, 0], centre, half_width, params, (out.up_dist[rows], out.down_dist[rows])
    )
    deviation = y - centre
    strength = np.divide(deviation, up_dist, out=out.strength[rows])
    if not up_on.all():
        strength[:, ~up_on] = -np.inf
    np.maximum(strength, np.where(down_on, -deviation / down_dist, -np.inf), out=strength)
    warming = params.warmup - first_seen
    scored = (np.arange(n_rows)[:, None] >= warming) if warming.max() > 0 else True
    _reach_extremes(
        strength, (median, fast), hi, lo, centre, half_width, sides, scored, params, kernels
    )
    # Like the median and fast channels, a run counts only once it is beyond its limit.
    repeat = _repeat_strength(st, x, rate, kernels, params)
    np.maximum(strength, repeat, out=strength, where=repeat >= 1.0)
    if scored is not True:
        strength *= scored

    out.centre[rows] = centre
    out.offset[rows] = applied
    severity = np.abs(deviation, out=deviation)
    with np.errstate(over="ignore"):
        severity /= half_width
    # A stuck run is judged at the band whatever its value: the rest of the run, no worse,
    # is the same episode.
    np.maximum(severity, 1.0, out=severity, where=repeat >= 1.0)
    # Capped so that a state written as JSON stays finite.
    np.minimum(severity, 1e300, out=out.severity[rows])

    st[:, col.LEVEL] = level[-1]
    st[:, col.SPREAD] = spread[-1]
    st[:, col.TREND] = trend[-1]
    st[:, col.PREV2] = old[-1]
    st[:, col.PREV1] = y[-1]
    st[:, col.FAST] = fast[-1]
    st[:, col.ENV_HI] = hi[-1].T
    st[:, col.ENV_LO] = lo[-1].T
    st[:, col.N_SEEN] += n_rows
