import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.analysis import fit_lines, linear_trends


@settings(max_examples=100, deadline=None)
@given(
    slope=st.floats(-100, 100),
    intercept=st.floats(-1e3, 1e3),
    n=st.integers(3, 500),
    bucket_seconds=st.sampled_from([1.0, 3.0, 60.0]),
)
def test_the_slope_of_a_linear_series_is_its_slope(slope, intercept, n, bucket_seconds):
    y = (intercept + slope * np.arange(n))[:, None]
    trends = linear_trends(y, bucket_seconds)
    assert trends.slope_per_hour[0] == pytest.approx(
        slope * 3600 / bucket_seconds, rel=1e-6, abs=1e-6 * 3600 / bucket_seconds
    )
    if abs(slope) > 1e-3:
        assert trends.r2[0] == pytest.approx(1.0)
        assert trends.label[0] == np.sign(slope)


def test_vectorised_over_series_with_labels():
    t = np.arange(200, dtype=np.float64)
    rng = np.random.default_rng(1)
    y = np.c_[10 + 0.5 * t, 90 - 0.2 * t, np.full(200, 42.0), rng.normal(size=200)]
    trends = linear_trends(y, bucket_seconds=3.0)
    assert trends.names == ["increasing", "decreasing", "stable", "stable"]
    assert trends.slope_per_hour[:3] == pytest.approx([600.0, -240.0, 0.0])
    assert trends.r2[2] == 0.0


def test_min_slope_per_hour_silences_tiny_but_real_drifts():
    y = (50 + 1e-4 * np.arange(100))[:, None]
    assert linear_trends(y, 3.0).names == ["increasing"]
    assert linear_trends(y, 3.0, min_slope_per_hour=1.0).names == ["stable"]


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(0, 40), st.integers(1, 5)), elements=st.floats(-1e6, 1e6)
    )
)
def test_never_nan_and_r2_in_unit_interval(y):
    trends = linear_trends(y, 3.0)
    assert np.isfinite(trends.slope_per_hour).all()
    assert ((trends.r2 >= 0) & (trends.r2 <= 1)).all()
    assert set(trends.label.tolist()) <= {-1, 0, 1}


def test_degenerate_windows():
    assert fit_lines(np.zeros((0, 2))).slope.tolist() == [0.0, 0.0]
    one = fit_lines(np.array([[5.0]]))
    assert (one.slope[0], one.intercept[0], one.r2[0]) == (0.0, 5.0, 0.0)
    assert linear_trends(np.full((30, 1), 0.1), 3.0).label.tolist() == [0]
