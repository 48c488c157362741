"""The sliding window's arithmetic and the in-process limiter, on a fixed clock."""

from __future__ import annotations

import pytest

from lib.clock import FixedClock
from lib.errors import RateLimited
from lib.http.ratelimit import rate_limit
from lib.store.factory import open_limiters
from lib.store.limiters import KvSlidingWindow, Limit, weighted_count
from lib.store.memory_kv import MemoryKv

WINDOW_START = 1_800_000_000.0  # a multiple of 60 s: the start of a minute window


def test_weighted_count_weighs_the_previous_window_by_its_overlap() -> None:
    assert weighted_count(current=2, previous=10, now_ms=0, window_ms=1000) == 12
    assert weighted_count(current=2, previous=10, now_ms=250, window_ms=1000) == 9  # 7.5 → 7
    assert weighted_count(current=0, previous=10, now_ms=999, window_ms=1000) == 0
    assert weighted_count(current=3, previous=0, now_ms=500, window_ms=1000) == 3


def _limiter(max_requests: int = 3) -> tuple[KvSlidingWindow, FixedClock]:
    clock = FixedClock(WINDOW_START)
    return KvSlidingWindow(MemoryKv(), clock, "t", Limit(max_requests, 60)), clock


def test_allows_the_limit_then_refuses_without_counting_refusals() -> None:
    limiter, clock = _limiter(3)
    decisions = [limiter.hit("a") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert {d.reset_s for d in decisions} == {WINDOW_START + 60}
    assert limiter.hit("b").allowed  # another client
    clock.advance(90)  # half-way through the next window: 3 * 0.5 → 1 still counted
    assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_limiters_raise_rate_limited_with_retry_after() -> None:
    clock = FixedClock(WINDOW_START + 45.5)
    limiters = open_limiters(MemoryKv(), clock, {"api": Limit(1, 60)})
    limiters.check("api", "c")
    with pytest.raises(RateLimited) as raised:
        limiters.check("api", "c")
    assert raised.value.retry_after_s == 15  # ceil(60 - 45.5)
    assert raised.value.details["limiter"] == "api"


def test_unknown_limiter_names_fail_at_import_time() -> None:
    with pytest.raises(KeyError, match="known"):
        rate_limit("nope")


def test_no_import_cycle_between_state_and_the_rate_limit() -> None:
    """The store factory builds the limiters: app state never imports the dependencies."""
    import subprocess
    import sys

    code = (
        "import sys, lib.http.state, lib.store.factory; print('lib.http.ratelimit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
