"""The injectable clock and bucket arithmetic. No other module reads wall time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current Unix time in seconds."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time: the only place the application reads it."""

    def now(self) -> float:
        return time.time()


class MonotonicTimer:
    """Elapsed-time measurement for latencies and budgets (not wall time)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed_s(self) -> float:
        return time.perf_counter() - self._start


@dataclass
class FixedClock:
    """A clock that stands still until a test moves it."""

    t: float

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass(frozen=True)
class Buckets:
    """Bucket arithmetic: ``bucket = (unix_seconds - epoch_s) // bucket_seconds``."""

    epoch_s: int
    bucket_seconds: int

    def bucket_of(self, ts: float) -> int:
        return int((ts - self.epoch_s) // self.bucket_seconds)

    def start_of(self, bucket: int) -> float:
        return float(self.epoch_s + bucket * self.bucket_seconds)

    def seconds_to_next_bucket(self, ts: float) -> float:
        return self.start_of(self.bucket_of(ts) + 1) - ts


def monotonic() -> float:
    """Seconds on a clock that never goes back: for TTLs and timeouts, not for buckets."""
    return time.monotonic()


def pause(seconds: float) -> None:
    """Sleep: for polling a lock, never for waiting on a bucket."""
    time.sleep(seconds)
