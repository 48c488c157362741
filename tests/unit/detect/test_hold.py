from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.detect.hold import apply_hold


def reference(detected: np.ndarray, severity: np.ndarray, hold: int) -> np.ndarray:
    """The rule, one row at a time."""
    held = np.zeros_like(detected)
    for s in range(detected.shape[1]):
        for t in range(detected.shape[0]):
            before = [severity[j, s] for j in range(max(0, t - hold), t) if detected[j, s]]
            held[t, s] = detected[t, s] and bool(before) and severity[t, s] <= max(before)
    return held


@st.composite
def detections(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    shape = (draw(st.integers(1, 60)), draw(st.integers(1, 3)))
    detected = draw(hnp.arrays(np.bool_, shape, elements=st.booleans()))
    severity = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, 2.0, 3.5])))
    return detected, severity, draw(st.integers(0, 12))


@settings(max_examples=100, deadline=None)
@given(detections())
def test_the_hold_follows_its_rule(case) -> None:
    detected, severity, hold = case
    held, _ = apply_hold(detected, severity, np.zeros((detected.shape[1], hold)))
    np.testing.assert_array_equal(held, reference(detected, severity, hold))


@settings(max_examples=100, deadline=None)
@given(case=detections(), data=st.data())
def test_carrying_the_recent_detections_equals_one_pass(case, data) -> None:
    detected, severity, hold = case
    cut = data.draw(st.integers(0, len(detected)))
    recent = np.zeros((detected.shape[1], hold))
    whole, _ = apply_hold(detected, severity, recent)
    first, carried = apply_hold(detected[:cut], severity[:cut], recent)
    second, _ = apply_hold(detected[cut:], severity[cut:], carried)
    np.testing.assert_array_equal(np.concatenate((first, second)), whole)


def test_an_episode_pages_once_then_again_when_worse() -> None:
    detected = np.array([[True], [True], [False], [True], [True], [False]])
    severity = np.array([[3.0], [2.0], [0.0], [3.0], [4.0], [0.0]])
    held, recent = apply_hold(detected, severity, np.zeros((1, 4)))
    assert held[:, 0].tolist() == [False, True, False, True, False, False]
    assert recent[0].tolist() == [0.0, 3.0, 4.0, 0.0]
