"""The load pattern: local time of day, weekdays, environments."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lib.sim.profiles import DAY_S, HOUR_S, local_load

MONDAY = 4 * DAY_S  # Unix day 4 (1970-01-05) was a Monday


def _hourly(day_start: int) -> np.ndarray:
    t = day_start + np.arange(0, DAY_S, 60, dtype=np.int64)
    return local_load(t).reshape(24, 60).mean(axis=1)


def test_daily_shape_morning_peak_afternoon_normal_evening_high_night_low() -> None:
    hours = _hourly(MONDAY + 7 * DAY_S)
    night, morning = hours[2:5].mean(), hours[9:12].mean()
    afternoon, evening = hours[14:17].mean(), hours[19:22].mean()
    assert night < 0.3
    assert morning > 2.5 * night
    assert evening > 2.5 * night
    assert afternoon < morning
    assert afternoon < evening


def test_weekends_are_lighter_than_weekdays() -> None:
    week = [_hourly(MONDAY + d * DAY_S).mean() for d in range(7)]
    assert max(week[5:]) < 0.75 * min(week[:5])


@given(t=st.integers(0, 4 * 10**9))
def test_load_is_bounded_and_continuous(t: int) -> None:
    near = np.array([t, t + 30], dtype=np.int64)
    load = local_load(near)
    assert load.min() > 0.1
    assert load.max() <= 0.97
    assert abs(load[1] - load[0]) < 0.01  # no jumps, even at midnight on a weekend boundary


def test_the_weekend_fades_in_over_the_first_hours_of_saturday() -> None:
    friday, saturday = MONDAY + 4 * DAY_S, MONDAY + 5 * DAY_S
    at = np.array([0, HOUR_S, 2 * HOUR_S, 5 * HOUR_S])
    ratio = local_load(saturday + at) / local_load(friday + at)
    assert ratio[0] == 1.0
    assert 0.7 < ratio[1] < 1.0
    assert ratio[2] == ratio[3] == 0.7
