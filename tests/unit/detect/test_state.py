from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.detect import State
from lib.detect.state import width
from lib.errors import ValidationError


@st.composite
def states(draw: st.DrawFn) -> State:
    slots = draw(st.integers(1, 30))
    hold = draw(st.integers(0, 40))
    n_series = draw(st.integers(0, 4))
    data = draw(hnp.arrays(np.float64, (n_series, width(slots, hold))))
    return State(data, slots, hold)


@settings(max_examples=60)
@given(states())
def test_bytes_round_trip_exactly(state: State) -> None:
    back = State.from_bytes(state.to_bytes())
    assert (back.slots, back.hold) == (state.slots, state.hold)
    np.testing.assert_array_equal(back.data, state.data)


@settings(max_examples=60)
@given(states())
def test_dicts_round_trip_exactly_through_json(state: State) -> None:
    back = State.from_dict(json.loads(json.dumps(state.to_dict())))
    np.testing.assert_array_equal(back.data, state.data)


def test_a_fresh_state_is_small() -> None:
    state = State.fresh(1, 24, 30)
    assert len(state.to_bytes()) < 1024
    assert state.season().shape == (1, 24)
    assert state.week().shape == (1, 7)
    assert state.pending().shape == (1, 31)
    assert state.recent().shape == (1, 30)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"OMD3",
        b"OMD2" + bytes(12),
        # The layout before the idle counts, whose rows were two floats shorter.
        struct.pack("<4sIII", b"OMD3", 24, 30, 1) + bytes(8 * 116),
        b"XXXX" + bytes(12),
        State.fresh(2, 24, 30).to_bytes()[:-8],
    ],
)
def test_damaged_bytes_are_refused(blob: bytes) -> None:
    with pytest.raises(ValidationError):
        State.from_bytes(blob)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"version": 1, "slots": 24, "hold": 30, "rows": []},
        {"version": 2, "slots": 24, "hold": 30, "rows": [[0.0] * 94]},
        {"version": 3, "slots": 24, "hold": 30, "rows": [[0.0] * 116] * 59},
        {"version": 4, "slots": 24, "hold": 30, "rows": [[1.0, 2.0]]},
        {"version": 4, "slots": "x", "hold": 30, "rows": []},
    ],
)
def test_bad_dicts_are_refused(doc: dict) -> None:
    with pytest.raises(ValidationError):
        State.from_dict(doc)
