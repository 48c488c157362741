from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lib.detect import CLEAR, CRITICAL, HELD, WARNING, Level, level_of, levels_of


def test_the_thresholds_leave_room_for_hysteresis_and_the_hold() -> None:
    assert 0.0 < CLEAR < HELD < WARNING < CRITICAL < 1.0


def test_known_scores() -> None:
    assert level_of(0.0) is Level.NORMAL
    assert level_of(HELD) is Level.NORMAL
    assert level_of(WARNING) is Level.WARNING
    assert level_of(CRITICAL) is Level.CRITICAL
    assert level_of(1.0) is Level.CRITICAL


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_the_array_form_agrees_with_the_scalar_one(scores: list[float]) -> None:
    levels = levels_of(np.array(scores))
    assert levels.dtype == np.int8
    assert levels.tolist() == [int(level_of(s)) for s in scores]
