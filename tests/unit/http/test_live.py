"""The stream's cursor and snapshot encoding (``lib/http/live.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.clock import Buckets
from lib.config import DEFAULT_EPOCH_S
from lib.errors import ValidationError
from lib.http.live import Cursor, snapshot_payloads
from lib.sim import METRICS, build_fleet

BUCKET = st.integers(-(10**12), 10**12)


@settings(max_examples=200, deadline=None)
@given(BUCKET, st.integers(0, 10**6))
def test_a_cursor_survives_its_text(snapshots: int, lag: int) -> None:
    cursor = Cursor(snapshots, snapshots - lag)
    text = str(cursor)
    assert Cursor.parse(text, "Last-Event-ID") == cursor
    assert (":" in text) == (lag > 0)


def test_a_plain_bucket_means_everything_through_it() -> None:
    assert Cursor.parse(" 1200 ", "id") == Cursor(1200, 1200)
    # Events can never be ahead of snapshots.
    assert Cursor.parse("10:12", "id") == Cursor(10, 10)


@pytest.mark.parametrize("text", ["", "x", "12:", ":12", "1.5", "12:13:14", "1" * 19])
def test_anything_else_is_a_validation_error_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Cursor.parse(text, "last_event_id")
    assert caught.value.details["field"] == "last_event_id"


def test_snapshots_are_compact_rounded_and_json_safe() -> None:
    fleet = build_fleet(1, 8, epoch_s=DEFAULT_EPOCH_S)
    values = np.full((2, fleet.size, len(METRICS)), 12.3456, dtype=np.float32)
    values[1, 0, 0] = np.nan
    first, second = snapshot_payloads(fleet, Buckets(DEFAULT_EPOCH_S, 3), 5, values)
    assert (first["bucket"], second["bucket"]) == (5, 6)
    assert first["at"] == "2026-01-01T00:00:15Z"
    assert first["metrics"] == METRICS
    assert first["servers"][0]["values"] == [12.35] * len(METRICS)
    assert second["servers"][0]["values"][0] is None
    assert first["summary"]["servers"] == fleet.size
