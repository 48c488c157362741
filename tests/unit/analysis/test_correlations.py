import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.analysis import correlation_matrix, lagged_correlations, strongest_pairs
from lib.errors import ValidationError

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
        elements=finite,
    )
)
def test_correlations_are_symmetric_bounded_and_never_nan(x):
    r = correlation_matrix(x)
    assert r.shape == (x.shape[1], x.shape[1])
    assert np.isfinite(r).all()
    assert (np.abs(r) <= 1.0).all()
    np.testing.assert_allclose(r, r.T)
    assert set(np.diag(r).round(9).tolist()) <= {0.0, 1.0}


def test_known_relations_and_constant_series():
    t = np.arange(50, dtype=np.float64)
    x = np.c_[t, 3 * t + 1, -t, np.full(50, 7.3), np.sin(t)]
    r = correlation_matrix(x)
    assert r[0, 1] == pytest.approx(1.0)
    assert r[0, 2] == pytest.approx(-1.0)
    assert r[3].tolist() == [0.0] * 5
    assert r[:, 3].tolist() == [0.0] * 5


def test_lagged_correlation_finds_which_series_leads():
    rng = np.random.default_rng(3)
    db = rng.normal(size=300)
    api = np.r_[rng.normal(size=2), db[:-2]] * 2.0 + 0.05 * rng.normal(size=300)
    lagged = lagged_correlations(np.c_[db, api], max_lag=5)
    assert lagged.lag[0, 1] == 2
    assert lagged.lag[1, 0] == -2
    assert lagged.r[0, 1] > 0.99
    (pair,) = strongest_pairs(
        np.c_[db, api], ["db-01 response_ms", "api-01 error_pct"], k=3, max_lag=5
    )
    assert (pair.leader, pair.follower, pair.lag_buckets) == (0, 1, 2)
    assert pair.summary_en.startswith("db-01 response_ms leads api-01 error_pct by 2 buckets")
    assert "2버킷 선행" in pair.summary_ko


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 6)), elements=finite),
    st.integers(0, 6),
)
def test_lagged_correlations_are_bounded_and_lags_within_range(x, max_lag):
    lagged = lagged_correlations(x, max_lag)
    assert np.isfinite(lagged.r).all()
    assert (np.abs(lagged.r) <= 1.0).all()
    assert (np.abs(lagged.lag) <= max_lag).all()
    np.testing.assert_array_equal(np.diag(lagged.lag), 0)
    # Lag 0 is always among the candidates, so the best is at least as strong.
    assert (np.abs(lagged.r) >= np.abs(correlation_matrix(x)) - 1e-12).all()


def test_tiny_series_correlate_as_their_scaled_copies():
    """Found by hypothesis in CI: a series of values near 1e-158 squared to subnormals in the
    norm, so its self-correlation at lag 0 came out below 1."""
    t = np.arange(12, dtype=np.float64)
    x = np.c_[np.sin(t), np.cos(t) + t / 10]
    for scale in (1e-158, 1e-300, 1e150):
        np.testing.assert_allclose(correlation_matrix(x * scale), correlation_matrix(x), atol=1e-12)
        lagged = lagged_correlations(x * scale, 3)
        np.testing.assert_allclose(np.diag(lagged.r), 1.0, atol=1e-12)
    spike = np.array([[9.49350557e-158], [0.0], [0.0]])
    assert lagged_correlations(spike, 0).r[0, 0] >= correlation_matrix(spike)[0, 0] - 1e-12


def test_strongest_pairs_are_ordered_and_skip_constants():
    t = np.arange(40, dtype=np.float64)
    x = np.c_[t, t + np.sin(t), np.full(40, 1.0), np.cos(t)]
    pairs = strongest_pairs(x, ["a", "b", "c", "d"], k=10)
    strengths = [abs(p.r) for p in pairs]
    assert strengths == sorted(strengths, reverse=True)
    assert all("c" not in (p.leader_label, p.follower_label) for p in pairs)
    assert pairs[0].summary_en.startswith("a and b move together")
    assert strongest_pairs(x, ["a", "b", "c", "d"], k=10, min_abs_r=0.99) == pairs[:1]


def test_inputs_are_checked():
    with pytest.raises(ValidationError):
        correlation_matrix(np.zeros(5))
    with pytest.raises(ValidationError):
        correlation_matrix(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValidationError):
        strongest_pairs(np.zeros((5, 2)), ["only one"])
