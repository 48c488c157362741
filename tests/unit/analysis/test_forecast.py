import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.analysis import forecast_linear, t_quantile, time_to_threshold
from lib.errors import ValidationError


@pytest.mark.parametrize(
    ("p", "dof", "expected"),
    [
        (0.975, 1, 12.7062),
        (0.975, 2, 4.3027),
        (0.975, 5, 2.5706),
        (0.975, 30, 2.0423),
        (0.995, 10, 3.1693),
        (0.025, 8, -2.3060),
    ],
)
def test_t_quantile_matches_tables(p, dof, expected):
    assert t_quantile(p, dof) == pytest.approx(expected, rel=2e-3)


def test_a_linear_series_is_forecast_exactly_with_a_zero_width_interval():
    y = (3.0 + 0.5 * np.arange(20))[:, None]
    f = forecast_linear(y, horizon=4)
    assert f.mean[:, 0] == pytest.approx(3.0 + 0.5 * np.arange(20, 24))
    assert f.upper[:, 0] - f.lower[:, 0] == pytest.approx(np.zeros(4), abs=1e-9)


def test_prediction_intervals_widen_with_the_horizon_and_cover_noise():
    rng = np.random.default_rng(11)
    y = (10 + 0.1 * np.arange(400) + rng.normal(scale=2.0, size=(400, 50)).T).T
    f = forecast_linear(y[:300], horizon=100, level=0.9)
    width = f.upper - f.lower
    assert (np.diff(width, axis=0) > 0).all()
    inside = (y[300:] >= f.lower) & (y[300:] <= f.upper)
    assert 0.85 <= inside.mean() <= 0.95


def test_degenerate_windows_forecast_without_nan():
    assert forecast_linear(np.zeros((0, 2)), 3).mean.tolist() == [[0.0, 0.0]] * 3
    f = forecast_linear(np.array([[4.0], [6.0]]), 2)
    assert f.mean[:, 0].tolist() == [8.0, 10.0]
    assert np.isfinite(f.lower).all()
    with pytest.raises(ValidationError):
        forecast_linear(np.zeros((3, 1)), 0)


@settings(max_examples=100, deadline=None)
@given(
    start=st.floats(0, 90),
    rate_per_hour=st.floats(0.01, 50),
    n=st.integers(3, 400),
    bucket_seconds=st.sampled_from([3.0, 60.0]),
)
def test_time_to_full_of_a_linearly_rising_disk_matches_the_closed_form(
    start, rate_per_hour, n, bucket_seconds
):
    per_bucket = rate_per_hour * bucket_seconds / 3600
    disk = start + per_bucket * np.arange(n)
    hours = time_to_threshold(disk[:, None], 100.0, bucket_seconds)[0]
    if disk[-1] >= 100.0:
        assert hours == 0.0
    else:
        assert hours == pytest.approx((100.0 - disk[-1]) / rate_per_hour, rel=1e-6)


def test_time_to_threshold_is_inf_when_not_rising_and_vectorised():
    t = np.arange(100, dtype=np.float64)
    rng = np.random.default_rng(5)
    disk = np.c_[
        50 + 0.1 * t,
        np.full(100, 70.0),
        90 - 0.1 * t,
        60 + rng.normal(size=100),
        np.full(100, 100.0),
    ]
    hours = time_to_threshold(disk, 100.0, bucket_seconds=3.0)
    assert hours[0] == pytest.approx((100 - 59.9) / 0.1 * 3 / 3600)
    assert hours[1:4].tolist() == [np.inf, np.inf, np.inf]
    assert hours[4] == 0.0
    assert not np.isnan(time_to_threshold(np.zeros((0, 2)), 100.0, 3.0)).any()
