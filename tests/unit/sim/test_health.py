"""Status and health come from the metrics alone, for one bucket or a whole window."""

from __future__ import annotations

import numpy as np

from lib.sim import SERVER_STATUSES, Fleet, assess, window
from lib.sim.health import CRITICAL, HEALTHY, OFFLINE, WARNING
from lib.sim.metrics import CONNECTIONS, CPU, DISK, ERROR, MEMORY, RESPONSE, RPS
from tests.unit.sim.conftest import QUIET


def _healthy_row(fleet: Fleet) -> np.ndarray:
    return window(fleet, 5000, 5001, QUIET)[0]


def test_statuses_are_named() -> None:
    assert SERVER_STATUSES == ("healthy", "warning", "critical", "offline")
    assert (HEALTHY, WARNING, CRITICAL, OFFLINE) == (0, 1, 2, 3)


def test_thresholds_decide_the_status(fleet: Fleet) -> None:
    row = _healthy_row(fleet)
    cases = [
        (CPU, 84.0, WARNING),
        (CPU, 97.0, CRITICAL),
        (MEMORY, 96.0, CRITICAL),
        (DISK, 88.0, WARNING),
        (ERROR, 12.0, CRITICAL),
    ]
    for metric, value, expected in cases:
        changed = row.copy()
        changed[3, metric] = value
        status, health = assess(fleet, changed)
        assert status[3] == expected, (metric, value)
        assert health[3] < 100
        assert (status[np.arange(fleet.size) != 3] == HEALTHY).all()
    slow = row.copy()
    slow[3, RESPONSE] *= 10
    assert assess(fleet, slow)[0][3] == CRITICAL


def test_a_server_serving_nothing_is_offline(fleet: Fleet) -> None:
    row = _healthy_row(fleet)
    row[7, RPS] = 0
    row[7, CONNECTIONS] = 0
    status, health = assess(fleet, row)
    assert status[7] == OFFLINE
    assert health[7] == 0


def test_window_and_row_forms_agree(fleet: Fleet) -> None:
    values = window(fleet, 100, 140, QUIET)
    status, health = assess(fleet, values)
    assert status.shape == health.shape == (40, fleet.size)
    assert health.dtype == np.float32
    for k in (0, 17, 39):
        row_status, row_health = assess(fleet, values[k])
        assert np.array_equal(row_status, status[k])
        assert np.array_equal(row_health, health[k])
    subset = [4, 9]
    sub_status, _ = assess(fleet, values[:, subset], servers=np.array(subset))
    assert np.array_equal(sub_status, status[:, subset])
    assert health.min() >= 0
    assert health.max() <= 100
