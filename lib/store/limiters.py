"""Rate limiters per client on the KV every function instance shares: the algorithms.

One algorithm on both KV adapters: upstash-ratelimit's sliding window. A window of ``w`` ms
is split at multiples of ``w``; a request at ``now`` counts the requests of the current window
plus ``floor((1 - (now % w) / w) * previous)``: the previous window weighted by how much of it
still overlaps the last ``w`` ms. A request is refused when that weighted count has reached the
limit; refused requests are not counted.

- On Upstash, ``upstash_ratelimit.Ratelimit`` runs its Lua script (one command per request).
  It talks to the KV through the adapter's ``pipeline``, so the command is counted and its
  failures arrive as our ``StoreError``s.
- On any other KV (``MemoryKv``), ``KvSlidingWindow`` runs the same steps in Python under a
  lock; ``tests/integration/http/test_ratelimit.py`` holds the two to identical answers.

Which one a KV gets is the store factory's choice (``lib.store.factory.open_limiters``).
When the KV cannot be reached the request is let through (logged): a monitoring dashboard
that locks everyone out because its rate limiter is down is worse than one without limits.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lib.errors import RateLimited, StoreError

if TYPE_CHECKING:
    from lib.clock import Clock
    from lib.store.kv import Kv

log = logging.getLogger("openmanager.ratelimit")

KEY_PREFIX = "om:rl"


@dataclass(frozen=True)
class Limit:
    """``max_requests`` per ``window_s``, counted per client or per IP address."""

    max_requests: int
    window_s: int
    per: Literal["client", "ip"] = "client"


LIMITS: dict[str, Limit] = {
    "api": Limit(600, 60),  # every route: a dashboard polls far below this
    "login": Limit(10, 60, per="ip"),  # password guessing
    "ai": Limit(20, 60),  # each question costs model time
}
"""The defaults; ``lib.store.factory.open_limiters`` applies the RATE_LIMIT_* settings."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float
    """Unix time (s) when the current window ends."""


class Limiter(Protocol):
    def hit(self, identifier: str) -> Decision:
        """Count one request of ``identifier`` if it is allowed; say whether it was."""
        ...


def weighted_count(current: int, previous: int, now_ms: int, window_ms: int) -> int:
    """Requests in the sliding window ending at ``now_ms``, as upstash-ratelimit's script counts."""
    return math.floor((1 - (now_ms % window_ms) / window_ms) * previous) + current


class KvSlidingWindow:
    """The sliding window on any ``Kv``: GET both windows, decide, INCR.

    Read-decide-write is made atomic by a lock, which is enough for the in-process KV this is
    for. Keys and expiry are the script's: ``<prefix>:<id>:<window index>``, kept 2w + 1 s.
    """

    def __init__(self, kv: Kv, clock: Clock, prefix: str, limit: Limit) -> None:
        self._kv = kv
        self._clock = clock
        self._prefix = prefix
        self._max = limit.max_requests
        self._window_ms = limit.window_s * 1000
        self._lock = threading.Lock()

    def hit(self, identifier: str) -> Decision:
        now_ms = int(self._clock.now() * 1000)
        window = now_ms // self._window_ms
        key = f"{self._prefix}:{identifier}:{window}"
        reset_s = (window + 1) * self._window_ms / 1000
        with self._lock:
            current, previous = self._kv.mget([key, f"{self._prefix}:{identifier}:{window - 1}"])
            before = weighted_count(int(current or 0), int(previous or 0), now_ms, self._window_ms)
            if before >= self._max:
                return Decision(False, self._max, 0, reset_s)
            count = self._kv.incr(key, px=self._window_ms * 2 + 1000)
        remaining = self._max - (before - int(current or 0) + count)
        return Decision(True, self._max, max(0, remaining), reset_s)


class _ScriptRunner:
    """The one method of ``upstash_redis.Redis`` that upstash-ratelimit's sliding window calls,
    sent through ``Kv.pipeline``."""

    def __init__(self, kv: Kv) -> None:
        self._kv = kv

    def eval(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        (reply,) = self._kv.pipeline([("EVAL", script, len(keys), *keys, *args)])
        if isinstance(reply, StoreError):
            raise reply
        return reply


class UpstashSlidingWindow:
    """upstash-ratelimit's ``SlidingWindow`` on the Upstash KV."""

    def __init__(self, kv: Kv, prefix: str, limit: Limit) -> None:
        # Imported here: it pulls in upstash-redis' asyncio client, which the embedded
        # default never needs.
        from upstash_ratelimit import Ratelimit, SlidingWindow

        self._ratelimit = Ratelimit(
            redis=_ScriptRunner(kv),  # type: ignore[arg-type]
            limiter=SlidingWindow(limit.max_requests, limit.window_s, unit="s"),
            prefix=prefix,
        )

    def hit(self, identifier: str) -> Decision:
        response = self._ratelimit.limit(identifier)
        return Decision(response.allowed, response.limit, response.remaining, response.reset)


class Limiters:
    """The named limiters of one app."""

    def __init__(
        self,
        clock: Clock,
        limits: Mapping[str, Limit],
        shared: Mapping[str, Limiter],
        local: Mapping[str, Limiter],
    ) -> None:
        self._clock = clock
        self.limits = limits
        self._limiters = shared
        self._local = local
        """Per instance, at no KV cost (see ``check``)."""

    def check(self, name: str, identifier: str, *, shared: bool = True) -> None:
        """Count a request; ``RateLimited`` (429, ``Retry-After``) when over the limit.

        ``shared=False`` counts in this instance only, at no KV cost: for anonymous reads,
        which the CDN mostly answers and which must not cost a KV command each.
        """
        limiter = self._limiters[name] if shared else self._local[name]
        try:
            decision = limiter.hit(identifier)
        except StoreError as exc:
            log.warning("rate limit %s skipped: %s", name, exc.code)
            return
        if not decision.allowed:
            retry_after = max(1, math.ceil(decision.reset_s - self._clock.now()))
            raise RateLimited(
                f"too many requests; retry in {retry_after} s",
                retry_after_s=retry_after,
                limit=decision.limit,
                limiter=name,
            )
