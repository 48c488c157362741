import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.analysis import FleetHealth, ServerStatus, fleet_health, status_counts
from lib.errors import ValidationError


def test_a_critical_server_weighs_more_than_in_a_plain_mean():
    health = [100.0] * 9 + [20.0]
    status = [ServerStatus.HEALTHY] * 9 + [ServerStatus.CRITICAL]
    result = fleet_health(health, status)
    assert result.score == pytest.approx((9 * 100 + 4 * 20) / 13)
    assert result.score < np.mean(health)
    assert result.counts == {"healthy": 9, "warning": 0, "critical": 1, "offline": 0}
    assert result.n_servers == 10


def test_an_offline_server_counts_as_zero_health():
    result = fleet_health([100.0, 100.0], [ServerStatus.HEALTHY, ServerStatus.OFFLINE])
    assert result.score == pytest.approx(100 / 5)


def test_an_empty_fleet_is_healthy_not_nan():
    assert fleet_health([], []) == FleetHealth(
        score=100.0, counts={"healthy": 0, "warning": 0, "critical": 0, "offline": 0}, n_servers=0
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 110), st.integers(0, 3)), max_size=40))
def test_score_is_within_bounds_and_below_the_best_server(rows):
    health = [h for h, _ in rows]
    status = [s for _, s in rows]
    result = fleet_health(health, status)
    assert 0.0 <= result.score <= 100.0
    if rows:
        assert result.score <= max(min(max(health), 100.0), 0.0) + 1e-9
    assert sum(result.counts.values()) == len(rows)


def test_bad_input_is_rejected():
    with pytest.raises(ValidationError):
        fleet_health([1.0, 2.0], [0])
    with pytest.raises(ValidationError):
        status_counts([0, 4])
    with pytest.raises(ValidationError):
        fleet_health([1.0], [0], weights=(1.0, 0.0, 1.0, 1.0))
