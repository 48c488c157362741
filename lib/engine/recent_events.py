"""The stream events an instance has already read or written, shared by its open streams.

Every open ``/api/stream`` asks for the events of the buckets the engine processed since its
cursor. Read from the KV per stream, that is one ``ZRANGEBYSCORE`` per stream per advance: a
cost that grows with viewers. Events of a processed bucket never change (the commit that moves
the cursor writes them in the same script call), so an instance can keep the ones it has seen
and read from the KV only the buckets it has never covered: one read per advance, whatever the
number of streams. An advance this instance made adds its own events without any read.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence

from lib.engine.records import Event

Fetch = Callable[[int, int], list[Event]]
"""Events of buckets ``b0 <= b < b1`` from the KV, in bucket order."""


class RecentEvents:
    """Events of the contiguous bucket range ``[lo, hi]``, complete, at most ``keep`` buckets."""

    def __init__(self, keep_buckets: int) -> None:
        self.keep = keep_buckets
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._lo = 0
        self._hi = -1  # empty: nothing covered

    def between(self, b0: int, b1: int, fetch: Fetch) -> list[Event]:
        """Events of buckets ``b0 <= b < b1`` (all processed), reading only what is new."""
        with self._lock:
            if self._hi < self._lo or b0 < self._lo or b0 > self._hi + 1:
                events = sorted(fetch(b0, b1), key=_bucket)
                self._reset(b0, b1, events)
                return events  # all of them, even those older than what is kept
            if b1 - 1 > self._hi:
                self._extend(b1, fetch(self._hi + 1, b1))
            return self._slice(b0, b1)

    def next_bucket(self) -> int | None:
        """The first bucket after those covered, or None when nothing is."""
        with self._lock:
            return None if self._hi < self._lo else self._hi + 1

    def add(self, b0: int, b1: int, events: Sequence[Event]) -> None:
        """The complete events of buckets ``b0 <= b < b1``, just committed by this instance."""
        with self._lock:
            if self._hi < self._lo or b0 > self._hi + 1 or b0 < self._lo:
                self._reset(b0, b1, list(events))
            elif b1 - 1 > self._hi:
                self._events = self._slice(self._lo, b0) + sorted(events, key=_bucket)
                self._extend(b1, [])

    def _reset(self, b0: int, b1: int, events: list[Event]) -> None:
        self._events, self._lo, self._hi = sorted(events, key=_bucket), b0, b1 - 1
        self._trim()

    def _extend(self, b1: int, events: list[Event]) -> None:
        self._events += sorted(events, key=_bucket)
        self._hi = b1 - 1
        self._trim()

    def _trim(self) -> None:
        lo = max(self._lo, self._hi + 1 - self.keep)
        self._events = self._events[bisect_left(self._events, lo, key=_bucket) :]
        self._lo = lo

    def _slice(self, b0: int, b1: int) -> list[Event]:
        i = bisect_left(self._events, b0, key=_bucket)
        j = bisect_left(self._events, b1, key=_bucket)
        return self._events[i:j]


def _bucket(event: Event) -> int:
    return event.bucket
