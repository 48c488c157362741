"""score_window: no look-ahead, chunking-invariant, bounded, floors, and it finds anomalies."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.detect import (
    CRITICAL,
    DEFAULT_PARAMS,
    HELD,
    WARNING,
    Direction,
    Params,
    SeriesConfig,
    SeriesConfigs,
    State,
    score_window,
)
from lib.errors import ValidationError
from tests.unit.detect.strategies import BUSY, PARAMS, START, configs, windows

BANDS = ("baseline", "warn_upper", "crit_upper", "warn_lower", "crit_lower")
DAY = 86_400.0
FIVE_MIN = 300.0


def assert_same(a: np.ndarray, b: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale, equal_nan=True)


def noise(n: int, seed: int = 7, sd: float = 1.0, level: float = 50.0) -> np.ndarray:
    return level + sd * np.random.default_rng(seed).standard_normal(n)


def stamps(n: int, step: float = FIVE_MIN) -> np.ndarray:
    return START + step * np.arange(n)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), window=windows(), params=PARAMS)
def test_a_row_never_depends_on_later_rows(data, window, params: Params) -> None:
    values, ts = window
    cut = data.draw(st.integers(0, len(values) - 1))
    cfg = data.draw(configs(values.shape[1]))
    other = values.copy()
    other[cut + 1 :] = data.draw(st.floats(-1e6, 1e6)) - other[cut + 1 :]
    a = score_window(values, ts, params, configs=cfg)
    b = score_window(other, ts, params, configs=cfg)
    for name in ("score", *BANDS):
        np.testing.assert_array_equal(getattr(a, name)[: cut + 1], getattr(b, name)[: cut + 1])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), window=windows(), params=PARAMS)
def test_chunks_and_state_give_the_same_answers_as_one_call(data, window, params) -> None:
    values, ts = window
    cfg = data.draw(configs(values.shape[1]))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(values)), max_size=6))))
    whole = score_window(values, ts, params, configs=cfg)
    parts, state = [], None
    for lo, hi in zip([0, *cuts], [*cuts, len(values)], strict=True):
        part = score_window(values[lo:hi], ts[lo:hi], params, configs=cfg, state=state)
        parts.append(part)
        state = part.state
    scale = 1.0 + float(np.abs(values).max())
    assert_same(whole.score, np.concatenate([p.score for p in parts]), 1.0)
    for name in BANDS:
        assert_same(getattr(whole, name), np.concatenate([getattr(p, name) for p in parts]), scale)
    assert_same(whole.state.data, state.data, scale)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), window=windows(), params=PARAMS)
def test_scores_are_in_the_unit_interval_and_bands_are_ordered(data, window, params) -> None:
    values, ts = window
    r = score_window(values, ts, params, configs=data.draw(configs(values.shape[1])))
    assert np.isfinite(r.score).all()
    assert ((r.score >= 0.0) & (r.score <= 1.0)).all()
    assert np.isfinite(r.baseline).all()
    with np.errstate(invalid="ignore"):
        assert not (r.crit_upper < r.warn_upper).any()
        assert not (r.crit_lower > r.warn_lower).any()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), window=windows(), params=PARAMS)
def test_floors_hold_whatever_the_history(data, window, params) -> None:
    values, ts = window
    cfg = data.draw(configs(values.shape[1]))
    r = score_window(values, ts, params, configs=cfg)
    warn_above, crit_above, warn_below, crit_below = cfg.floors.T
    with np.errstate(invalid="ignore"):
        assert (r.score[values >= crit_above] >= CRITICAL).all()
        assert (r.score[values <= crit_below] >= CRITICAL).all()
        assert (r.score[values >= warn_above] >= WARNING).all()
        assert (r.score[values <= warn_below] >= WARNING).all()
        # The thresholds shown are never laxer than the floors.
        assert not (r.crit_upper > crit_above).any()
        assert not (r.warn_lower < warn_below).any()


@settings(max_examples=40, deadline=None)
@given(window=windows(), params=PARAMS)
def test_a_value_beyond_its_warning_band_scores_at_least_held(window, params) -> None:
    values, ts = window
    r = score_window(values, ts, params)
    scale = 1e-9 * (1.0 + np.abs(values))
    with np.errstate(invalid="ignore"):
        beyond = (values > r.warn_upper + scale) | (values < r.warn_lower - scale)
    assert (r.score[beyond] >= HELD).all()


def test_a_constant_series_is_never_anomalous() -> None:
    r = score_window(np.full((500, 2), [0.0, 42.5]), stamps(500))
    assert r.score.max() < 1e-6


def test_warm_up_scores_nothing_and_shows_no_bands() -> None:
    values = noise(100)[:, None]
    values[10] += 1e6
    r = score_window(values, stamps(100))
    warm = DEFAULT_PARAMS.warmup
    assert (r.score[:warm] == 0.0).all()
    assert np.isnan(r.warn_upper[:warm]).all()
    assert np.isfinite(r.warn_upper[warm:]).all()


def test_a_spike_is_critical_and_direction_decides_which_side_counts() -> None:
    n = 2000
    values = np.stack([noise(n)] * 3, axis=1)
    values[1500, :] += 25.0
    values[1700, :] -= 25.0
    cfg = SeriesConfigs.of(
        [SeriesConfig(Direction.BOTH), SeriesConfig(Direction.HIGH), SeriesConfig(Direction.LOW)]
    )
    r = score_window(values, stamps(n), configs=cfg)
    assert r.score[1500, 0] >= CRITICAL
    assert r.score[1700, 0] >= CRITICAL
    assert r.score[1500, 1] >= CRITICAL
    assert r.score[1700, 1] < WARNING
    assert r.score[1500, 2] < WARNING
    assert r.score[1700, 2] >= CRITICAL
    assert np.isnan(r.warn_lower[:, 1]).all()
    assert np.isnan(r.warn_upper[:, 2]).all()


def test_a_level_shift_fires_once_then_becomes_the_new_normal() -> None:
    n = 3000
    values = noise(n, sd=1.0)
    values[2000:] += 8.0
    r = score_window(values[:, None], stamps(n))
    assert r.score[2000:2003, 0].max() >= WARNING
    assert (r.score[2000:, 0] >= WARNING).sum() <= 3
    assert (r.score[2100:, 0] >= WARNING).sum() <= 2
    assert abs(r.baseline[-1, 0] - 58.0) < 1.0


def test_white_noise_raises_warnings_ever_more_rarely() -> None:
    n = 20_000
    warned = score_window(noise(n, seed=3)[:, None], stamps(n)).score[:, 0] >= WARNING
    # A warning needs a new extreme: they thin out as the range seen grows (about one in two
    # thousand samples past the first thousand, with this seed).
    assert warned[:1000].sum() >= warned[1000:3000].sum()
    assert warned[1000:].sum() <= 12


def test_the_morning_peak_pages_nobody_once_the_days_are_learned() -> None:
    days = 10
    ts = stamps(days * 288)
    hour = (ts % DAY) / 3600.0
    peak = 30.0 * np.exp(-(((hour - 9.0) / 1.5) ** 2))
    values = 20.0 + peak + noise(len(ts), seed=5, sd=1.0, level=0.0)
    r = score_window(values[:, None], ts)
    assert (r.score[288:, 0] >= WARNING).sum() == 0
    # The season term learns the daily shape: by the last day the baseline climbs with the
    # peak (to 50) much further than the level alone, which lags and clips, would take it.
    last_peak = ((hour > 8.5) & (hour < 9.5))[-288:]
    assert r.baseline[-288:, 0][last_peak].mean() > 32.0


NEVER_FADES = dataclasses.replace(DEFAULT_PARAMS, envelope_idle=1e18)


def test_a_spike_the_series_left_fades_and_a_smaller_one_later_counts() -> None:
    """Remembered for ever, the first spike would hide the second, 25 spreads above normal."""
    n = 6000
    values = noise(n)
    values[1000] += 60.0
    values[5000] += 25.0
    fading = score_window(values[:, None], stamps(n)).score[:, 0]
    kept = score_window(values[:, None], stamps(n), NEVER_FADES).score[:, 0]
    assert fading[1000] >= CRITICAL
    assert kept[1000] >= CRITICAL
    assert kept[5000] < WARNING
    assert fading[5000] >= WARNING


def test_a_peak_the_series_keeps_reaching_stays_normal() -> None:
    """A burst every 400 samples is remembered as if for ever: past the first few, one now and
    then goes beyond the record by noise. Forgotten after 50 samples unreached, each warns."""
    n = 8000
    values = noise(n)
    bursts = np.arange(500, n, 400)
    values[bursts] += 20.0
    quiet = score_window(values[:, None], stamps(n)).score[:, 0]
    kept = score_window(values[:, None], stamps(n), NEVER_FADES).score[:, 0]
    early = dataclasses.replace(DEFAULT_PARAMS, envelope_idle=50.0)
    forgetful = score_window(values[:, None], stamps(n), early).score[:, 0]
    np.testing.assert_array_equal(quiet, kept)
    late = bursts[bursts >= 2000]
    assert (quiet[late] >= WARNING).mean() < 0.25
    assert (forgetful[late] >= WARNING).all()


def test_a_repeat_within_the_hold_is_held_unless_it_is_worse() -> None:
    n = 2000
    values = np.stack([noise(n)] * 2, axis=1)
    values[1500, :] += 30.0
    values[1505, 0] = values[1500, 0] - 1.0  # the same episode again, no worse
    values[1505, 1] = values[1500, 1] + 30.0  # worse
    r = score_window(values, stamps(n))
    assert r.score[1500, 0] >= CRITICAL
    assert r.score[1505, 0] == HELD
    assert r.score[1505, 1] >= CRITICAL


def test_state_survives_bytes_and_dict_midway() -> None:
    values, ts = noise(700)[:, None], stamps(700)
    values[600] += 30.0
    whole = score_window(values, ts)
    first = score_window(values[:400], ts[:400])
    for restored in (
        State.from_bytes(first.state.to_bytes()),
        State.from_dict(first.state.to_dict()),
    ):
        rest = score_window(values[400:], ts[400:], state=restored)
        np.testing.assert_allclose(rest.score, whole.score[400:], rtol=1e-9, atol=1e-12)


def test_an_empty_window_changes_nothing() -> None:
    state = score_window(noise(50)[:, None], stamps(50)).state
    r = score_window(np.empty((0, 1)), np.empty(0), state=state)
    assert r.score.shape == (0, 1)
    np.testing.assert_array_equal(r.state.data, state.data)


@pytest.mark.parametrize(
    ("values", "ts", "field"),
    [
        (np.zeros(5), np.arange(5.0), "values"),
        (np.zeros((5, 1)), np.arange(4.0), "timestamps"),
        (np.array([[1.0], [math.nan]]), np.arange(2.0), "values"),
        (np.zeros((2, 1)), np.array([0.0, math.inf]), "timestamps"),
    ],
)
def test_bad_inputs_name_the_field(values, ts, field) -> None:
    with pytest.raises(ValidationError) as caught:
        score_window(values, ts)
    assert caught.value.details["field"] == field


def test_a_state_of_another_shape_is_refused() -> None:
    state = State.fresh(2, DEFAULT_PARAMS.season_slots, DEFAULT_PARAMS.hold)
    with pytest.raises(ValidationError, match="state holds 2 series"):
        score_window(np.zeros((3, 1)), np.arange(3.0), state=state)
    with pytest.raises(ValidationError) as caught:
        score_window(np.zeros((3, 2)), np.arange(3.0), BUSY, state=state)
    assert caught.value.details["field"] == "state"
