"""Failed bearer authentications, counted per client address in this instance.

Every unknown bearer token costs a KV lookup, so a guesser could spend the KV's budget (and
time) freely. ``FailedAuth`` counts failures per address in memory: once an address has had
``limit`` failures within ``window_s``, its next bearer is refused with a 429 before any KV
command. Per instance, as the anonymous-read limit: it costs nothing and a guesser spread over
many instances still meets each one's limit. At most ``max_clients`` addresses are tracked (the
least recently failed are forgotten), so spoofed-looking traffic cannot grow memory.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from typing import TYPE_CHECKING

from lib.errors import RateLimited

if TYPE_CHECKING:
    from lib.clock import Clock

LIMITER = "auth_failures"


class FailedAuth:
    """A sliding log of failure times per address (see the module docstring)."""

    def __init__(
        self, clock: Clock, limit: int, window_s: float = 60.0, max_clients: int = 10_000
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window_s = window_s
        self._max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        while times and times[0] <= now - self._window_s:
            times.popleft()
        return times

    def check(self, address: str) -> None:
        """``RateLimited`` while ``address`` is over the limit; no cost otherwise."""
        now = self._clock.now()
        with self._lock:
            times = self._recent(address, now)
            if times is None or len(times) < self._limit:
                return
            retry_after = max(1, math.ceil(times[0] + self._window_s - now))
        raise RateLimited(
            f"too many failed authentications; retry in {retry_after} s",
            retry_after_s=retry_after,
            limit=self._limit,
            limiter=LIMITER,
        )

    def failed(self, address: str) -> None:
        """Count one failure of ``address``."""
        now = self._clock.now()
        with self._lock:
            times = self._recent(address, now)
            if times is None:
                times = deque(maxlen=self._limit)
                self._failures[address] = times
                while len(self._failures) > self._max_clients:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(address)
            times.append(now)
