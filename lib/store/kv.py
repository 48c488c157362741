"""The KV port: the few Redis operations the engine, the HTTP layer and the outbox need.

Values are strings (callers encode JSON themselves); keys are strings. Times are in
milliseconds where the name says ``px`` and in seconds elsewhere. Every adapter counts the
commands it sends (``commands_sent``: Upstash bills per command) and the round trips it makes.

Adapters: ``MemoryKv`` (in-process, the embedded default) and ``UpstashKv`` (Upstash REST).
Both pass ``tests/integration/test_kv_contract.py``. Failures surface as ``StoreError``
subclasses from ``lib.errors``: ``StoreUnavailable`` or ``StoreTimeout`` when the store cannot
be reached, plain ``StoreError`` when it rejects a command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lib.errors import StoreError

Command = Sequence[str | int | float]
"""One raw Redis command, e.g. ``("SET", "k", "v", "NX", "PX", 1000)``."""

Reply = str | int | None | list["Reply"]
"""A raw Redis reply: bulk string, integer, nil or array (status replies arrive as strings)."""


@dataclass(frozen=True)
class Script:
    """A server-side script: ``lua`` for Redis (``EVAL``), ``local`` its twin for ``MemoryKv``.

    ``local(call, keys, args)`` runs with the store locked; ``call(*command)`` is
    ``redis.call``. Both must answer alike: the engine's tests run on both adapters.
    """

    lua: str
    local: Callable[[Callable[..., Reply], Sequence[str], Sequence[str]], Reply]


class Kv(Protocol):
    """Narrow Redis-like key-value store, shared by every stateless function instance."""

    backend: str
    """``"memory"`` or ``"upstash"``."""

    @property
    def commands_sent(self) -> int:
        """Commands sent since the adapter was made (a pipeline of n counts n)."""
        ...

    @property
    def round_trips(self) -> int:
        """Network round trips since the adapter was made (a pipeline counts one)."""
        ...

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        """Set ``key``; with ``nx`` only when absent (atomic). ``px``: expiry in ms.

        Returns whether the value was written.
        """
        ...

    def mget(self, keys: Sequence[str]) -> list[str | None]: ...

    def incr(self, key: str, *, px: int | None = None) -> int:
        """Atomically add one; ``px`` sets the expiry only when the key is created."""
        ...

    def delete(self, *keys: str) -> int:
        """Delete keys; returns how many existed."""
        ...

    def delete_if_equals(self, key: str, value: str) -> bool:
        """Atomically delete ``key`` only while it still holds ``value`` (lock release)."""
        ...

    def hget(self, key: str, field: str) -> str | None: ...

    def hset(self, key: str, mapping: Mapping[str, str]) -> int:
        """Set hash fields; returns how many fields were new."""
        ...

    def hgetall(self, key: str) -> dict[str, str]: ...

    def hdel(self, key: str, *fields: str) -> int: ...

    def rpush(self, key: str, *values: str) -> int:
        """Append to a list; returns its new length."""
        ...

    def lrange(self, key: str, start: int, stop: int) -> list[str]:
        """Elements ``start..stop`` inclusive; negative indexes count from the end."""
        ...

    def ltrim(self, key: str, start: int, stop: int) -> None:
        """Keep only elements ``start..stop`` inclusive."""
        ...

    def llen(self, key: str) -> int: ...

    def zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        """Add or update members with scores; returns how many were new."""
        ...

    def zrangebyscore(
        self,
        key: str,
        min_score: float,
        max_score: float,
        *,
        offset: int | None = None,
        count: int | None = None,
    ) -> list[str]:
        """Members with ``min_score <= score <= max_score``, lowest score first."""
        ...

    def zremrangebyscore(self, key: str, min_score: float, max_score: float) -> int: ...

    def pipeline(self, commands: Sequence[Command]) -> list[Reply | StoreError]:
        """Send several raw commands in one round trip, not as a transaction.

        Each command's reply is in the same position; a command that fails yields its
        ``StoreError`` there without losing the others' replies. A store that cannot be
        reached raises instead.
        """
        ...

    def eval(self, script: Script, keys: Sequence[str], args: Sequence[str | int | float]) -> Reply:
        """Run ``script`` atomically: one command (Upstash bills an ``EVAL`` as one)."""
        ...

    def ping(self) -> None:
        """Raise a ``StoreError`` unless the store answers."""
        ...

    def close(self) -> None: ...


class CommandCounter:
    """What an adapter has sent: commands (Upstash bills each) and round trips. Thread-safe."""

    def __init__(self) -> None:
        self._count_lock = threading.Lock()
        self._commands_sent = 0
        self._round_trips = 0

    @property
    def commands_sent(self) -> int:
        return self._commands_sent

    @property
    def round_trips(self) -> int:
        return self._round_trips

    def _count(self, commands: int = 1) -> None:
        """One round trip carrying ``commands`` commands."""
        with self._count_lock:
            self._commands_sent += commands
            self._round_trips += 1
