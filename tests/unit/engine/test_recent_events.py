"""The per-instance cache of stream events: the KV's answer, with each bucket read once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.engine.recent_events import RecentEvents
from lib.engine.records import Event

KEEP = 50


class Kv:
    """The events sorted set, counting the range reads made on it."""

    def __init__(self, buckets_with_events: list[int]) -> None:
        self.events = [
            Event("alert", b, {"n": i}) for i, b in enumerate(sorted(buckets_with_events))
        ]
        self.reads: list[tuple[int, int]] = []

    def fetch(self, b0: int, b1: int) -> list[Event]:
        self.reads.append((b0, b1))
        return [e for e in self.events if b0 <= e.bucket < b1]

    def truth(self, b0: int, b1: int) -> list[Event]:
        return [e for e in self.events if b0 <= e.bucket < b1]


def test_many_streams_one_read_per_new_range() -> None:
    kv = Kv([3, 5, 5, 9, 12])
    recent = RecentEvents(KEEP)
    for _ in range(10):  # ten streams at the same cursor
        assert recent.between(1, 6, kv.fetch) == kv.truth(1, 6)
    for _ in range(10):
        assert recent.between(6, 11, kv.fetch) == kv.truth(6, 11)
    assert kv.reads == [(1, 6), (6, 11)]


def test_a_stream_behind_reads_nothing_new() -> None:
    kv = Kv([2, 4, 8])
    recent = RecentEvents(KEEP)
    recent.between(1, 10, kv.fetch)
    assert recent.between(3, 9, kv.fetch) == kv.truth(3, 9)
    assert kv.reads == [(1, 10)]


def test_own_advance_costs_no_read() -> None:
    kv = Kv([2, 7, 7, 8])
    recent = RecentEvents(KEEP)
    recent.between(1, 5, kv.fetch)
    recent.add(5, 9, kv.truth(5, 9))
    assert recent.between(1, 9, kv.fetch) == kv.truth(1, 9)
    assert kv.reads == [(1, 5)]


def test_older_than_kept_goes_back_to_the_kv() -> None:
    kv = Kv([1, 30, 90])
    recent = RecentEvents(KEEP)
    recent.between(1, 100, kv.fetch)  # keeps buckets 50..99 only
    assert recent.between(1, 100, kv.fetch) == kv.truth(1, 100)
    assert kv.reads == [(1, 100), (1, 100)]


@settings(max_examples=200, deadline=None)
@given(
    buckets=st.lists(st.integers(0, 120), max_size=40),
    calls=st.lists(
        st.tuples(st.booleans(), st.integers(0, 120), st.integers(1, 30)), min_size=1, max_size=25
    ),
)
def test_always_the_kvs_answer(buckets: list[int], calls: list[tuple[bool, int, int]]) -> None:
    """Whatever the order of reads and own commits, the answer is the sorted set's."""
    kv = Kv(buckets)
    recent = RecentEvents(KEEP)
    for own, b0, span in calls:
        b1 = b0 + span
        if own:
            recent.add(b0, b1, kv.truth(b0, b1))
        else:
            assert recent.between(b0, b1, kv.fetch) == kv.truth(b0, b1)
