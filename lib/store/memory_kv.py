"""``MemoryKv``: the in-process KV of the embedded default (``make dev``), thread-safe, with TTLs.

It is a real backend, not a test double: it answers like Redis for the commands the app uses,
including the raw ones a pipeline carries, and passes the same contract suite as ``UpstashKv``.
State lives only as long as the process, which is what a single ``make dev`` server needs.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping, Sequence

from lib.clock import monotonic
from lib.errors import StoreError
from lib.store.kv import Command, CommandCounter, Reply, Script

_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
_NOT_INT = "ERR value is not an integer or out of range"

_Value = str | dict[str, str] | list[str] | dict[str, float]


class MemoryKv(CommandCounter):
    """A dictionary behind a lock, answering like Redis."""

    backend = "memory"

    def __init__(self, now_s: Callable[[], float] = monotonic) -> None:
        super().__init__()
        self._now_s = now_s
        self._lock = threading.RLock()
        self._data: dict[str, _Value] = {}
        self._kinds: dict[str, type] = {}
        self._expires_at: dict[str, float] = {}

    # -- bookkeeping -------------------------------------------------------------------

    def _alive(self, key: str) -> bool:
        deadline = self._expires_at.get(key)
        if deadline is not None and deadline <= self._now_s():
            self._drop(key)
        return key in self._data

    def _drop(self, key: str) -> bool:
        self._expires_at.pop(key, None)
        self._kinds.pop(key, None)
        return self._data.pop(key, None) is not None

    def _typed(self, key: str, kind: type, *, create: bool) -> _Value | None:
        if self._alive(key):
            if self._kinds[key] is not kind:
                raise StoreError(_WRONGTYPE, backend=self.backend, key=key)
            return self._data[key]
        if not create:
            return None
        self._data[key] = kind()
        self._kinds[key] = kind
        return self._data[key]

    def _hash(self, key: str, *, create: bool = False) -> dict[str, str] | None:
        return self._typed(key, dict, create=create)  # type: ignore[return-value]

    def _list(self, key: str, *, create: bool = False) -> list[str] | None:
        return self._typed(key, list, create=create)  # type: ignore[return-value]

    def _zset(self, key: str, *, create: bool = False) -> dict[str, float] | None:
        # Sorted sets are dicts tagged with their own kind, so a hash is not mistaken for one.
        return self._typed(key, _ZSet, create=create)  # type: ignore[return-value]

    # -- strings -----------------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        value = self._typed(key, str, create=False)
        return value  # type: ignore[return-value]

    def _set(self, key: str, value: str, nx: bool, px: int | None) -> bool:
        if nx and self._alive(key):
            return False
        self._drop(key)
        self._data[key] = value
        self._kinds[key] = str
        if px is not None:
            self._expires_at[key] = self._now_s() + px / 1000
        return True

    def _incr(self, key: str, px: int | None) -> int:
        current = self._get(key)
        try:
            value = int(current or "0") + 1
        except ValueError as exc:
            raise StoreError(_NOT_INT, backend=self.backend, key=key) from exc
        if current is None:
            self._set(key, str(value), nx=False, px=px)
        else:
            self._data[key] = str(value)
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            self._count()
            return self._get(key)

    def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        with self._lock:
            self._count()
            return self._set(key, value, nx, px)

    def mget(self, keys: Sequence[str]) -> list[str | None]:
        with self._lock:
            self._count()
            return [self._get_or_none(k) for k in keys]

    def _get_or_none(self, key: str) -> str | None:
        # MGET answers nil for keys of another type instead of failing.
        return self._data[key] if self._alive(key) and self._kinds[key] is str else None  # type: ignore[return-value]

    def incr(self, key: str, *, px: int | None = None) -> int:
        with self._lock:
            self._count(2 if px is not None else 1)
            return self._incr(key, px)

    def delete(self, *keys: str) -> int:
        with self._lock:
            self._count()
            return sum(self._alive(k) and self._drop(k) for k in keys)

    def delete_if_equals(self, key: str, value: str) -> bool:
        with self._lock:
            self._count()
            if self._alive(key) and self._data[key] == value:
                return self._drop(key)
            return False

    def _pexpire(self, key: str, px: int) -> int:
        if not self._alive(key):
            return 0
        self._expires_at[key] = self._now_s() + px / 1000
        return 1

    # -- hashes ------------------------------------------------------------------------

    def hget(self, key: str, field: str) -> str | None:
        with self._lock:
            self._count()
            h = self._hash(key)
            return None if h is None else h.get(field)

    def hset(self, key: str, mapping: Mapping[str, str]) -> int:
        with self._lock:
            self._count()
            return self._hset(key, mapping)

    def _hset(self, key: str, mapping: Mapping[str, str]) -> int:
        h = self._hash(key, create=True)
        assert h is not None
        new = sum(f not in h for f in mapping)
        h.update(mapping)
        return new

    def hgetall(self, key: str) -> dict[str, str]:
        with self._lock:
            self._count()
            return dict(self._hash(key) or {})

    def hdel(self, key: str, *fields: str) -> int:
        with self._lock:
            self._count()
            return self._hdel(key, fields)

    def _hdel(self, key: str, fields: Sequence[str]) -> int:
        h = self._hash(key)
        if h is None:
            return 0
        removed = sum(h.pop(f, None) is not None for f in fields)
        if not h:
            self._drop(key)
        return removed

    # -- lists -------------------------------------------------------------------------

    def rpush(self, key: str, *values: str) -> int:
        with self._lock:
            self._count()
            return self._rpush(key, values)

    def _rpush(self, key: str, values: Sequence[str]) -> int:
        items = self._list(key, create=True)
        assert items is not None
        items.extend(values)
        return len(items)

    def lrange(self, key: str, start: int, stop: int) -> list[str]:
        with self._lock:
            self._count()
            return self._lrange(key, start, stop)

    def _lrange(self, key: str, start: int, stop: int) -> list[str]:
        items = self._list(key) or []
        lo, hi = _span(len(items), start, stop)
        return items[lo:hi]

    def ltrim(self, key: str, start: int, stop: int) -> None:
        with self._lock:
            self._count()
            self._ltrim(key, start, stop)

    def _ltrim(self, key: str, start: int, stop: int) -> None:
        items = self._list(key)
        if items is None:
            return
        lo, hi = _span(len(items), start, stop)
        items[:] = items[lo:hi]
        if not items:
            self._drop(key)

    def llen(self, key: str) -> int:
        with self._lock:
            self._count()
            return len(self._list(key) or [])

    # -- sorted sets -------------------------------------------------------------------

    def zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        with self._lock:
            self._count()
            return self._zadd(key, mapping)

    def _zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        z = self._zset(key, create=True)
        assert z is not None
        new = sum(m not in z for m in mapping)
        z.update({m: float(s) for m, s in mapping.items()})
        return new

    def zrangebyscore(
        self,
        key: str,
        min_score: float,
        max_score: float,
        *,
        offset: int | None = None,
        count: int | None = None,
    ) -> list[str]:
        with self._lock:
            self._count()
            return self._zrangebyscore(key, min_score, max_score, offset, count)

    def _zrangebyscore(
        self, key: str, lo: float, hi: float, offset: int | None, count: int | None
    ) -> list[str]:
        z = self._zset(key) or {}
        ordered = sorted(z.items(), key=lambda kv: (kv[1], kv[0]))
        scores = [s for _, s in ordered]
        first, last = bisect.bisect_left(scores, lo), bisect.bisect_right(scores, hi)
        members = [m for m, _ in ordered[first:last]]
        start = offset or 0
        return members[start:] if count is None or count < 0 else members[start : start + count]

    def zremrangebyscore(self, key: str, min_score: float, max_score: float) -> int:
        with self._lock:
            self._count()
            return self._zremrangebyscore(key, min_score, max_score)

    def _zremrangebyscore(self, key: str, lo: float, hi: float) -> int:
        z = self._zset(key)
        if z is None:
            return 0
        doomed = [m for m, s in z.items() if lo <= s <= hi]
        for m in doomed:
            del z[m]
        if not z:
            self._drop(key)
        return len(doomed)

    # -- raw commands ------------------------------------------------------------------

    def pipeline(self, commands: Sequence[Command]) -> list[Reply | StoreError]:
        with self._lock:
            self._count(len(commands))
            replies: list[Reply | StoreError] = []
            for command in commands:
                try:
                    replies.append(self._run(command))
                except StoreError as exc:
                    replies.append(exc)
            return replies

    def _run(self, command: Command) -> Reply:
        name, *args = (str(part) for part in command)
        handler = _HANDLERS.get(name.upper())
        if handler is None:
            raise StoreError(f"ERR unknown command '{name}'", backend=self.backend)
        try:
            return handler(self, args)
        except (IndexError, ValueError) as exc:
            raise StoreError(
                f"ERR wrong arguments for '{name.lower()}' command", backend=self.backend
            ) from exc

    def eval(self, script: Script, keys: Sequence[str], args: Sequence[str | int | float]) -> Reply:
        """The script's Python twin, with the store locked as Redis runs a script."""
        with self._lock:
            self._count()
            return script.local(lambda *command: self._run(command), keys, [str(a) for a in args])

    def ping(self) -> None:
        with self._lock:
            self._count()

    def close(self) -> None:
        """Nothing to release: the data lives as long as the object."""


class _ZSet(dict[str, float]):
    """A sorted set: member → score."""


def _span(length: int, start: int, stop: int) -> tuple[int, int]:
    """Redis's inclusive, negative-aware index range as a Python slice."""
    lo = max(start + length if start < 0 else start, 0)
    hi = stop + length if stop < 0 else stop
    return lo, min(hi, length - 1) + 1 if hi >= lo else lo


def _set_command(kv: MemoryKv, args: list[str]) -> Reply:
    key, value, *options = args
    upper = [o.upper() for o in options]
    px = None
    if "PX" in upper:
        px = int(options[upper.index("PX") + 1])
    elif "EX" in upper:
        px = int(options[upper.index("EX") + 1]) * 1000
    return "OK" if kv._set(key, value, "NX" in upper, px) else None


def _zrangebyscore_command(kv: MemoryKv, args: list[str]) -> Reply:
    key, lo, hi, *rest = args
    offset = count = None
    if rest and rest[0].upper() == "LIMIT":
        offset, count = int(rest[1]), int(rest[2])
    return list(kv._zrangebyscore(key, float(lo), float(hi), offset, count))


def _zadd_command(kv: MemoryKv, args: list[str]) -> Reply:
    key, *pairs = args
    return kv._zadd(key, dict(zip(pairs[1::2], map(float, pairs[0::2]), strict=True)))


def _hgetall_command(kv: MemoryKv, args: list[str]) -> Reply:
    h = kv._hash(args[0]) or {}
    return [part for item in h.items() for part in item]


def _ltrim_command(kv: MemoryKv, args: list[str]) -> Reply:
    kv._ltrim(args[0], int(args[1]), int(args[2]))
    return "OK"


def _del_command(kv: MemoryKv, args: list[str]) -> Reply:
    return sum(kv._alive(k) and kv._drop(k) for k in args)


_HANDLERS: dict[str, Callable[[MemoryKv, list[str]], Reply]] = {
    "PING": lambda kv, a: "PONG",
    "GET": lambda kv, a: kv._get(a[0]),
    "SET": _set_command,
    "MGET": lambda kv, a: [kv._get_or_none(k) for k in a],
    "INCR": lambda kv, a: kv._incr(a[0], None),
    "DEL": _del_command,
    "EXISTS": lambda kv, a: sum(kv._alive(k) for k in a),
    "PEXPIRE": lambda kv, a: kv._pexpire(a[0], int(a[1])),
    "HGET": lambda kv, a: (kv._hash(a[0]) or {}).get(a[1]),
    "HSET": lambda kv, a: kv._hset(a[0], dict(zip(a[1::2], a[2::2], strict=True))),
    "HGETALL": _hgetall_command,
    "HMGET": lambda kv, a: [(kv._hash(a[0]) or {}).get(f) for f in a[1:]],
    "HDEL": lambda kv, a: kv._hdel(a[0], a[1:]),
    "RPUSH": lambda kv, a: kv._rpush(a[0], a[1:]),
    "LRANGE": lambda kv, a: list(kv._lrange(a[0], int(a[1]), int(a[2]))),
    "LTRIM": _ltrim_command,
    "LLEN": lambda kv, a: len(kv._list(a[0]) or []),
    "ZADD": _zadd_command,
    "ZRANGEBYSCORE": _zrangebyscore_command,
    "ZREMRANGEBYSCORE": lambda kv, a: kv._zremrangebyscore(a[0], float(a[1]), float(a[2])),
}
