"""Long-range reads agree with the engine's own detection and statuses, however they are cut."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.config import DEFAULT_EPOCH_S
from lib.engine.detection import ANCHOR_BUCKETS, detect, static_scores
from lib.engine.history import STATUS_BLOCK_BUCKETS, metric_history, status_history
from lib.errors import ValidationError
from lib.sim import METRIC_INDEX, METRICS, Fleet, Incident, Overrides, assess, build_fleet, window

SEED = 20_251_123
MORNING = 20 * 28_800 + 3 * 3600 // 3  # a weekday, 03:00 UTC, in buckets of 3 s


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return build_fleet(SEED, 8, epoch_s=DEFAULT_EPOCH_S)


@pytest.fixture(scope="module")
def overrides(fleet: Fleet) -> Overrides:
    """One injected incident in the range, so that bands react to something."""
    leak = Incident("inj-test", "memory_leak", (fleet.index_of("api-01"),), MORNING + 900, 600)
    return Overrides(injected=(leak,), failure_rate_per_hour=4.0)


def assert_same_bands(got: np.ndarray, want: np.ndarray) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("server", "metric"), [("api-01", "memory_pct"), ("db-01", "cpu_pct")])
def test_bands_are_the_detectors_over_many_anchors(
    fleet: Fleet, overrides: Overrides, server: str, metric: str
) -> None:
    b0, b1 = MORNING + 137, MORNING + 5 * ANCHOR_BUCKETS + 61  # 5 anchors, both slot phases
    det = detect(fleet, overrides, b0, b1)
    s, m = fleet.index_of(server), METRIC_INDEX[metric]
    got = metric_history(fleet, overrides, s, m, b0, b1, 1)
    series = s * len(METRICS) + m
    assert (got.b0, got.b1, got.step) == (b0, b1, 1)
    assert np.array_equal(got.mean, det.values[:, s, m].astype(np.float64))
    assert np.array_equal(got.peak, got.mean)
    for name in ("baseline", "warn_upper", "crit_upper"):
        assert_same_bands(getattr(got, name), getattr(det, name)[:, series])


def test_static_thresholds_when_adaptive_is_off(fleet: Fleet, overrides: Overrides) -> None:
    b0, b1 = MORNING, MORNING + 50
    got = metric_history(fleet, overrides, 2, METRIC_INDEX["cpu_pct"], b0, b1, 1, adaptive=False)
    flat = window(fleet, b0, b1, overrides, servers=[2])[:, 0].astype(np.float64)
    _, _, warn, crit = static_scores(flat, 1)
    assert np.array_equal(got.warn_upper, warn[:, METRIC_INDEX["cpu_pct"]])
    assert np.array_equal(got.crit_upper, crit[:, METRIC_INDEX["cpu_pct"]])
    assert np.isnan(got.baseline).all()


def test_downsampling_takes_means_and_maxima(fleet: Fleet, overrides: Overrides) -> None:
    b0, b1 = MORNING, MORNING + 1000
    fine = metric_history(fleet, overrides, 3, 0, b0, b1, 1)
    coarse = metric_history(fleet, overrides, 3, 0, b0, b1, 30)
    assert coarse.mean.size == 34  # 33 full steps and one of 10 buckets
    np.testing.assert_allclose(coarse.mean[:-1], fine.mean[:990].reshape(33, 30).mean(axis=1))
    assert coarse.mean[-1] == pytest.approx(fine.mean[990:].mean())
    assert np.array_equal(coarse.peak[:-1], fine.mean[:990].reshape(33, 30).max(axis=1))
    np.testing.assert_allclose(coarse.warn_upper[-1], np.nanmean(fine.warn_upper[990:]))


def test_odd_bucket_lengths_fall_back_to_one_chunk_at_a_time() -> None:
    fleet = build_fleet(SEED, 6, epoch_s=DEFAULT_EPOCH_S, bucket_seconds=7)
    quiet = Overrides(failures_enabled=False)
    b0, b1 = 100_000, 100_000 + 3 * ANCHOR_BUCKETS
    det = detect(fleet, quiet, b0, b1)
    got = metric_history(fleet, quiet, 1, 7, b0, b1, 1)
    assert_same_bands(got.warn_upper, det.warn_upper[:, 1 * len(METRICS) + 7])


def test_empty_ranges_and_steps_are_refused(fleet: Fleet, overrides: Overrides) -> None:
    with pytest.raises(ValidationError):
        metric_history(fleet, overrides, 0, 0, 10, 10, 1)
    with pytest.raises(ValidationError):
        metric_history(fleet, overrides, 0, 0, 10, 20, 0)


@settings(max_examples=10, deadline=None)
@given(
    start=st.integers(0, 3 * STATUS_BLOCK_BUCKETS),
    length=st.integers(1, 2 * STATUS_BLOCK_BUCKETS + 5),
)
def test_statuses_in_blocks_equal_a_whole_window(start: int, length: int) -> None:
    fleet = build_fleet(SEED, 8, epoch_s=DEFAULT_EPOCH_S)
    b0 = MORNING + start
    got = status_history(fleet, Overrides(failure_rate_per_hour=6.0), b0, b0 + length)
    want, _ = assess(fleet, window(fleet, b0, b0 + length, Overrides(failure_rate_per_hour=6.0)))
    assert np.array_equal(got, want)
    assert status_history(fleet, Overrides(), b0, b0).shape == (0, fleet.size)
