"""Adaptive thresholds: anomaly scores and the bands in force for many series at once.

How a series is judged, each sample using only the samples before it:

- **Baseline.** A robust EW mean of the deseasonalised value (residuals clipped at
  ``winsor`` spreads, so the spikes it looks for do not drag it), its robust spread (EW mean
  absolute deviation, corrected for what the clipping takes off), and an EW slope (the
  trend) along which the band centre is projected ``trend_horizon`` samples ahead: a rising
  series gets a wider upper band and a narrower lower one.
- **Season, found from the data.** One additive offset per time-of-day slot and one per
  weekday, each an EW mean (learned by time, not by samples) of what the baseline misses
  there; each season is applied only as far as its offsets stand out from the noise of
  learning them (``recurrence._season_weight``): a daily or weekly shape, both, or none.
- **Sampling interval.** Each series keeps its typical interval; a row after a gap teaches the
  baseline as many samples as the time it covers, so rates per sample hold for any interval.
- **Envelope.** The highest and lowest values recently seen, kept for three channels: the
  value, its 3-point median (a level that holds for two samples) and a fast EW mean (a
  sustained shift). An extreme shrinks back to the baseline slowly (``envelope_half_life``)
  while the value keeps coming near it (within ``envelope_near`` of the envelope's range),
  and quickly (``envelope_fade``) once it has not for ``envelope_idle`` samples: a peak the
  series keeps reaching is its normal range; a spike it reached once and left does not hide a
  smaller one later.
- **Bands.** The warning band of a channel lies beyond its envelope by ``envelope_margin`` of
  the envelope's range, and at least ``band_sigmas`` of the channel's standard deviations
  from the centre; the critical band is ``1 + critical_stretch`` times as far from the centre.
  The bands returned are the value's.
- **Strength.** The value's distance from the centre over its warning distance, on the sides
  ``direction`` allows; raised to the median's or the fast mean's own ratio when one of them
  is beyond its band, and to the stuck channel's when the value has repeated itself for
  longer than the series ever did and than is likely (``recurrence._repeat_strength``).
- **Score.** ``0.5 × strength²`` inside the band; from 0.5 at the warning band to 0.8 at the
  critical band, then towards 1 (``lib.detect.levels``).
- **Hold.** A detection within ``hold`` samples of an earlier one at least as far from the
  baseline (in spreads) is the same episode: it scores ``levels.HELD`` (``lib.detect.hold``).
- **Floors.** Absolute per-series floors apply last and always hold.

Rates and lengths count samples; the timestamps place samples in their season slots, scale the
seasons' learning to the time each sample covers, and count the samples a gap leaves out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.detect import levels
from lib.detect import state as col
from lib.detect.hold import apply_hold
from lib.detect.params import DEFAULT_PARAMS, Direction, Params, SeriesConfigs
from lib.detect.recurrence import (
    BOOL,
    F64,
    Calendar,
    Kernels,
    Outputs,
    advance,
    initialise,
    refresh,
)
from lib.detect.state import State
from lib.errors import ValidationError

__all__ = ["Scores", "score_window"]

DAY_S = 86_400.0


@dataclass(frozen=True)
class Scores:
    """What ``score_window`` returns. Every array is float64[T, S].

    ``warn_*``/``crit_*`` are the thresholds in force at each row, floors included; NaN where
    none is (a side the series' direction ignores with no floor, or the warm-up).
    ``state`` is the detector state after the last row, to pass to the next call.
    """

    score: F64
    baseline: F64
    warn_upper: F64
    crit_upper: F64
    warn_lower: F64
    crit_lower: F64
    state: State


def score_window(
    values: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    params: Params = DEFAULT_PARAMS,
    *,
    configs: SeriesConfigs | None = None,
    state: State | None = None,
) -> Scores:
    """Score ``S`` independent series over ``T`` rows, continuing from ``state``.

    Parameters
    ----------
    values : float[T, S]
        Finite samples; column ``s`` is one series (server × metric).
    timestamps : float[T]
        Unix seconds of each row, shared by all series (used for the season slot).
    params : Params
        Hyperparameters shared by every series.
    configs : SeriesConfigs, optional
        Direction and floors per series; default: both directions, no floors.
    state : State, optional
        What the detector learned before row 0; default: nothing yet.

    Returns
    -------
    Scores
        Row ``i`` depends only on rows ``<= i`` and ``state``. Scoring a window in several
        calls, passing the state along, gives the same result as one call.
    """
    x, ts = _check_inputs(values, timestamps)
    n_rows, n_series = x.shape
    configs = configs if configs is not None else SeriesConfigs.uniform(n_series)
    if state is None:
        state = State.fresh(n_series, params.season_slots, params.hold)
    _check_fit(n_series, params, configs, state)
    st = state.data.copy()
    if n_rows == 0:
        empty = np.empty((0, n_series))
        return Scores(empty, empty, empty, empty, empty, empty, State(st, state.slots, state.hold))

    unscored = np.clip(params.warmup - st[:, col.N_SEEN], 0, n_rows).astype(np.intp)
    cal = _calendar(ts, st[:, col.T_PREV], params)
    direction = configs.direction
    sides = ((direction & Direction.HIGH) > 0, (direction & Direction.LOW) > 0)

    out = Outputs.empty(n_rows, n_series)
    stretches = _stretches(st[:, col.N_SEEN], n_rows, params.refresh)
    kernels = Kernels.of(params, max(b - a for a, b in stretches))
    initialise(st, st[:, col.N_SEEN] == 0, x[0])
    for a, b in stretches:
        refresh(st, (st[:, col.N_SEEN] % params.refresh) == 0, params, kernels)
        rows = slice(a, b)
        advance(st, rows, x[rows], cal[rows], sides, params, kernels, out)
    st[:, col.T_PREV] = ts[-1]
    recent = col.recent(params.season_slots)
    held, st[:, recent] = apply_hold(out.strength >= 1.0, out.severity, st[:, recent])
    state = State(st, params.season_slots, params.hold)
    return _scores(x, out, held, sides, configs, params, unscored, state)


def _calendar(ts: F64, t_prev: F64, params: Params) -> Calendar:
    """Each row's time-of-day slot and weekday, and the share of an offset it teaches: the
    time it covers over its slot's length, so that learning goes by time, not by samples."""
    slot_s = DAY_S / params.season_slots
    gap = np.empty((ts.size, t_prev.size))
    gap[0] = ts[0] - t_prev
    gap[1:] = np.diff(ts)[:, None]
    gap = np.nan_to_num(gap)
    return Calendar(
        ((ts % DAY_S) // slot_s).astype(np.intp),
        # 1 January 1970 was a Thursday.
        ((ts // DAY_S + 3) % 7).astype(np.intp),
        params.season_rate * np.clip(gap, 0.0, slot_s) / slot_s,
        params.season_rate * np.clip(gap, 0.0, DAY_S) / DAY_S,
        gap,
    )


def _stretches(seen: F64, n_rows: int, refresh_every: int) -> list[tuple[int, int]]:
    """Row ranges with no series due for a refresh inside them."""
    starts = {0}
    for phase in np.unique(seen % refresh_every):
        starts.update(range(int((refresh_every - phase) % refresh_every), n_rows, refresh_every))
    return list(itertools.pairwise([*sorted(starts), n_rows]))


def _scores(
    x: F64,
    out: Outputs,
    held: BOOL,
    sides: tuple[BOOL, BOOL],
    configs: SeriesConfigs,
    params: Params,
    unscored: npt.NDArray[np.intp],
    state: State,
) -> Scores:
    """Map strengths to scores and distances to bands, then apply the floors (in place)."""
    p = out.strength
    score = np.clip(p, 0.0, 1.0)
    score *= score
    score *= levels.WARNING
    beyond = p >= 1.0
    if beyond.any():
        score[beyond] = levels.beyond_warning(p[beyond], params.critical_stretch)
    np.minimum(score, levels.HELD, out=score, where=held)

    baseline = np.add(out.centre, out.offset, out=out.centre)
    stretch = 1.0 + params.critical_stretch
    warn_upper = baseline + out.up_dist
    crit_upper = np.multiply(out.up_dist, stretch, out=out.up_dist)
    crit_upper += baseline
    warn_lower = baseline - out.down_dist
    crit_lower = np.multiply(out.down_dist, -stretch, out=out.down_dist)
    crit_lower += baseline
    # No band is in force on a side the series ignores, nor before its warm-up ends.
    warming = np.arange(unscored.max(initial=0))[:, None] < unscored
    for band, side in ((warn_upper, 0), (crit_upper, 0), (warn_lower, 1), (crit_lower, 1)):
        band[:, ~sides[side]] = np.nan
        band[: len(warming)][warming] = np.nan

    floored = np.flatnonzero(np.isfinite(configs.floors).any(axis=1))
    if floored.size:
        f = configs.floors[floored]
        xs = x[:, floored]
        with np.errstate(invalid="ignore"):
            alarm = np.maximum(
                levels.WARNING * ((xs >= f[:, 0]) | (xs <= f[:, 2])),
                levels.CRITICAL * ((xs >= f[:, 1]) | (xs <= f[:, 3])),
            )
        score[:, floored] = np.maximum(score[:, floored], alarm)
        for band, which, limit in (
            (warn_upper, 0, np.fmin),
            (crit_upper, 1, np.fmin),
            (warn_lower, 2, np.fmax),
            (crit_lower, 3, np.fmax),
        ):
            band[:, floored] = limit(band[:, floored], f[:, which])
    return Scores(score, baseline, warn_upper, crit_upper, warn_lower, crit_lower, state)


def _check_inputs(values: npt.ArrayLike, timestamps: npt.ArrayLike) -> tuple[F64, F64]:
    x = np.asarray(values, dtype=np.float64)
    ts = np.asarray(timestamps, dtype=np.float64)
    if x.ndim != 2:
        raise ValidationError(f"values must be float[T, S], got shape {x.shape}", field="values")
    if ts.shape != (x.shape[0],):
        raise ValidationError(
            f"timestamps must be float[T] with T = {x.shape[0]}, got shape {ts.shape}",
            field="timestamps",
        )
    if not np.isfinite(x).all():
        raise ValidationError("values must be finite numbers", field="values")
    if not np.isfinite(ts).all():
        raise ValidationError("timestamps must be finite numbers", field="timestamps")
    return x, ts


def _check_fit(n_series: int, params: Params, configs: SeriesConfigs, state: State) -> None:
    if len(configs) != n_series:
        raise ValidationError(
            f"configs describe {len(configs)} series, values have {n_series}", field="configs"
        )
    if (state.n_series, state.slots, state.hold) != (n_series, params.season_slots, params.hold):
        raise ValidationError(
            f"state holds {state.n_series} series, {state.slots} season slots, hold "
            f"{state.hold}; expected {n_series}, {params.season_slots}, {params.hold}",
            field="state",
        )
