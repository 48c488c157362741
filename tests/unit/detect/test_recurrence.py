"""The detector's recurrences: what they learn from plain noise."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lib.detect import Params, score_window
from lib.detect import state as col
from lib.detect.recurrence import clipped_mad


def test_clipped_mad_matches_clipping_gaussian_noise() -> None:
    e = np.random.default_rng(3).standard_normal(2_000_000)
    mad = np.abs(e).mean()
    for winsor in (1.0, 1.5, 3.0):
        clipped = np.abs(np.clip(e, -winsor * mad, winsor * mad)).mean()
        assert clipped_mad(winsor) == pytest.approx(clipped / mad, abs=2e-3)
    assert clipped_mad(12.0) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("winsor", [1.0, 1.5, 3.0, 6.0])
def test_the_spread_learned_from_clipped_residuals_is_the_unclipped_one(winsor: float) -> None:
    """Without the correction, winsor 1.5 settles the spread about 25 % low (and winsor 1,
    40 %): the band would narrow with the clipping."""
    rng = np.random.default_rng(11)
    n_rows, n_series = 6_000, 40
    values = 50.0 + 2.0 * rng.standard_normal((n_rows, n_series))
    params = dataclasses.replace(Params(), winsor=winsor, season_rate=1e-9)
    learned = score_window(values, 300.0 * np.arange(n_rows), params).state.data[:, col.SPREAD]
    true_mad = 2.0 * math.sqrt(2.0 / math.pi)
    assert np.median(learned) == pytest.approx(true_mad, rel=0.06)


def _stuck_at(values: np.ndarray, at: int, rows: int) -> np.ndarray:
    stuck = values.copy()
    stuck[at : at + rows] = stuck[at]
    return stuck


def test_a_series_that_stops_moving_is_flagged_within_a_few_samples() -> None:
    noisy = 50.0 + np.random.default_rng(5).standard_normal(2_000)
    values = _stuck_at(noisy, 1_500, 100)
    plain = score_window(noisy[:, None], 60.0 * np.arange(2_000)).score[:, 0]
    score = score_window(values[:, None], 60.0 * np.arange(2_000)).score[:, 0]
    first = 1_500 + int(np.argmax(score[1_500:] >= 0.5))
    assert 1_500 < first <= 1_504
    assert (plain[1_500 : first + 1] < 0.5).all()
    # One detection for the run: the rest of it is the same episode.
    assert (score[first + 1 : 1_600] < 0.5).all()


def test_a_series_that_often_repeats_itself_needs_a_longer_run() -> None:
    rng = np.random.default_rng(6)
    # Rounded to whole units: about a third of the samples repeat the one before.
    values = np.round(50.0 + 0.8 * rng.standard_normal(3_000))
    plain = score_window(values[:, None], 60.0 * np.arange(3_000)).score[:, 0]
    stuck = _stuck_at(values, 2_500, 200)
    score = score_window(stuck[:, None], 60.0 * np.arange(3_000)).score[:, 0]
    runs = np.diff(np.flatnonzero(np.diff(values[:2_500]) != 0)).max()
    first = 2_500 + int(np.argmax(score[2_500:] >= 0.5))
    assert runs < first - 2_500 < 2 * runs
    assert (plain[2_500 : first + 1] < 0.5).all()


def test_the_stuck_channel_resumes_bit_for_bit_from_its_state() -> None:
    values = _stuck_at(50.0 + np.random.default_rng(7).standard_normal(900), 600, 50)[:, None]
    ts = 60.0 * np.arange(900)
    whole = score_window(values, ts)
    head = score_window(values[:608], ts[:608])
    tail = score_window(values[608:], ts[608:], state=head.state)
    np.testing.assert_array_equal(np.concatenate((head.score, tail.score)), whole.score)
    np.testing.assert_array_equal(tail.state.data, whole.state.data)


def _days(n_days: int, amplitude: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    ts = 300.0 * np.arange(288 * n_days)
    noise = np.random.default_rng(seed).standard_normal((ts.size, 20))
    return 100.0 + amplitude * np.sin(2 * np.pi * ts / 86_400.0)[:, None] + noise, ts


def test_a_series_with_no_daily_shape_applies_no_season() -> None:
    values, ts = _days(10, 0.0, 8)
    state = score_window(values, ts).state.data
    assert np.median(state[:, col.SEASON_WEIGHT]) < 0.1
    assert np.median(state[:, col.WEEK_WEIGHT]) < 0.1


def test_a_daily_shape_is_found_and_applied() -> None:
    values, ts = _days(10, 3.0, 9)
    result = score_window(values, ts)
    assert result.state.data[:, col.SEASON_WEIGHT].min() > 0.8
    # The baseline follows the day: its last day correlates with the shape.
    shape = np.sin(2 * np.pi * ts[-288:] / 86_400.0)
    assert np.corrcoef(result.baseline[-288:, 0], shape)[0, 1] > 0.9


def test_a_weekly_shape_is_found_and_applied() -> None:
    """Weekends 3 sigma lower than weekdays, hourly for 20 weeks: the weekday offsets carry it."""
    ts = 3_600.0 * np.arange(24 * 7 * 20)
    weekend = ((ts // 86_400 + 3) % 7) >= 5
    noise = np.random.default_rng(10).standard_normal((ts.size, 20))
    result = score_window(100.0 - 3.0 * weekend[:, None] + noise, ts)
    data = result.state.data
    assert data[:, col.WEEK_WEIGHT].min() > 0.8
    assert np.median(data[:, col.SEASON_WEIGHT]) < 0.1
    week = result.state.week()
    assert (week[:, 5:].mean(axis=1) - week[:, :5].mean(axis=1) < -2.5).all()


def test_the_typical_interval_is_learned_through_jitter_and_gaps() -> None:
    rng = np.random.default_rng(12)
    ts = np.cumsum(300.0 * rng.uniform(0.8, 1.2, 3_000))
    ts[1_000:] += 300.0 * 40  # forty samples missing
    state = score_window(rng.standard_normal((3_000, 1)), ts).state.data
    assert state[0, col.INTERVAL] == pytest.approx(300.0, rel=0.05)


def test_after_a_gap_the_baseline_learns_as_if_from_the_samples_missed() -> None:
    rng = np.random.default_rng(13)
    values = 10.0 + rng.standard_normal(700)
    values[500:] += 8.0  # the series moved while nobody was looking
    regular = 300.0 * np.arange(700)
    gapped = regular.copy()
    gapped[500:] += 300.0 * 200
    caught_up = []
    for ts in (regular, gapped):
        baseline = score_window(values[:, None], ts).baseline[:, 0]
        caught_up.append(abs(baseline[505] - 18.0))
    # Each value still teaches the baseline no more than its clipping allows: faster, not at once.
    assert caught_up[1] < caught_up[0] - 1.0
