import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.alerts import AlertBook, AlertParams, AlertState, series_of, server_metric_of, step_many
from lib.errors import ValidationError


@st.composite
def books(draw):
    n = draw(st.integers(0, 12))
    t = draw(st.integers(1, 20))
    scores = draw(hnp.arrays(np.float64, (t, n), elements=st.sampled_from([0.0, 0.5, 0.9])))
    levels = draw(hnp.arrays(np.int8, (t, n), elements=st.sampled_from([0, 0, 1, 2])))
    b0 = draw(st.integers(0, 2**40))
    book, _ = step_many(AlertBook.empty(n, b0 - 1), scores, levels, b0, AlertParams())
    return book


@settings(max_examples=60, deadline=None)
@given(books())
def test_serialisation_round_trips(book):
    assert AlertBook.from_bytes(book.to_bytes()) == book
    assert AlertBook.from_dict(json.loads(json.dumps(book.to_dict()))) == book
    assert len(book.to_bytes()) == 17 + 42 * book.n_series


def test_the_book_is_immutable_and_compares_by_value():
    book = AlertBook.empty(4)
    with pytest.raises(ValueError, match="read-only"):
        book.state[0] = 1
    assert book == AlertBook.empty(4)
    assert book != AlertBook.empty(4, bucket=7)
    assert book.open_series().tolist() == []
    assert book.state.dtype == np.int8
    assert book.since_bucket.dtype == np.int64


@pytest.mark.parametrize("data", [b"", b"XXXX" + bytes(13), AlertBook.empty(2).to_bytes()[:-1]])
def test_malformed_bytes_are_rejected(data):
    with pytest.raises(ValidationError):
        AlertBook.from_bytes(data)


def test_malformed_dicts_are_rejected():
    good = AlertBook.empty(2).to_dict()
    with pytest.raises(ValidationError):
        AlertBook.from_dict({**good, "version": 99})
    with pytest.raises(ValidationError):
        AlertBook.from_dict({k: v for k, v in good.items() if k != "level"})
    with pytest.raises(ValidationError):
        AlertBook.from_dict({**good, "level": [0, 0, 0]})


def test_open_series_lists_firing_and_acknowledged():
    book = AlertBook.empty(4)
    arrays = book.to_dict()
    arrays["state"] = [AlertState.FIRING, 0, AlertState.ACKNOWLEDGED, AlertState.RESOLVED]
    assert AlertBook.from_dict(arrays).open_series().tolist() == [0, 2]


def test_series_index_is_the_c_order_flattening_of_server_by_metric():
    grid = np.arange(5 * 3).reshape(5, 3)
    flat = grid.reshape(-1)
    assert flat[series_of(4, 2, 3)] == grid[4, 2]
    assert server_metric_of(series_of(4, 2, 3), 3) == (4, 2)


def test_the_book_owns_its_arrays_and_rejects_unknown_codes():
    state = np.zeros(3, np.int8)
    book = AlertBook.from_dict({**AlertBook.empty(3).to_dict(), "state": state})
    state[0] = AlertState.FIRING
    assert book.state[0] == AlertState.INACTIVE
    assert state.flags.writeable
    for name, value in (("state", 5), ("level", 9), ("level", -1)):
        data = AlertBook.empty(1).to_dict()
        data[name] = [value]
        with pytest.raises(ValidationError):
            AlertBook.from_dict(data)
