from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib.clock import Buckets, FixedClock

EPOCH = 1_767_225_600


@given(ts=st.floats(min_value=EPOCH, max_value=EPOCH + 10**9), size=st.integers(1, 3600))
def test_a_moment_lies_inside_its_bucket(ts: float, size: int) -> None:
    b = Buckets(EPOCH, size)
    bucket = b.bucket_of(ts)
    assert b.start_of(bucket) <= ts < b.start_of(bucket + 1)
    assert 0 < b.seconds_to_next_bucket(ts) <= size


def test_bucket_arithmetic_on_known_values() -> None:
    b = Buckets(EPOCH, 3)
    assert b.bucket_of(EPOCH) == 0
    assert b.bucket_of(EPOCH + 2.999) == 0
    assert b.bucket_of(EPOCH + 3) == 1
    assert b.bucket_of(EPOCH - 1) == -1
    assert b.seconds_to_next_bucket(EPOCH + 1) == 2


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
