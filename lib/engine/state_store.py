"""The engine's state in the KV: one script call begins an advance, one commits it, fenced.

Upstash bills a script call (``EVAL``) as one command whatever it does inside, and a script
runs atomically. An advance is therefore two commands:

1. ``BEGIN`` takes the lock (``SET NX PX`` with a fresh token), compares the cursor (the
   ``last`` processed bucket) with the bucket to reach, and returns the whole ``om:world``
   hash: to advance from (``go``), or, when someone already processed that bucket, as the
   fresh view it is (``idle``, the lock given back at once), with the stream events of the
   buckets the caller has not seen yet. An instance that finds the work done thus learns all
   of it in that one call: no world read or events read follows.
2. ``COMMIT`` writes the new state only while the caller still holds the lock *and* the cursor
   is still the one it began from (fencing: a holder that stalled past the lock's expiry finds
   its successor's token or cursor and writes nothing), adds the stream events, trims them and
   releases the lock, all in one call.

Size. The alert book (42 bytes per series, twelve series a server) is most of the state. It is
kept out of ``om:world`` in ``om:engine:book``, one field per ``CHUNK_SERIES`` series, each
zlib-compressed, and ``om:world``'s ``engine`` field lists their digests. Run lengths are
stored as the bucket the run began (``bucket - run``, a sentinel for no run), so a series
whose alert state did not change keeps the same bytes from bucket to bucket, and an advance
writes only the chunks that changed. A reader fetches only chunks whose digest differs from
what it holds. A request to Upstash may not exceed 10 MB: a fleet whose changed chunks do not
fit in one commit is refused with a clear error (see ``MAX_COMMIT_BYTES``).

``MemoryKv`` runs the Python twin of each script under its lock (``lib.store.kv.Script``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from lib.alerts import AlertBook, AlertGroup
from lib.engine.records import Event
from lib.engine.world import (
    ENGINE,
    EVENTS_KEY,
    LAST,
    LOCK_KEY,
    RECOVERED,
    WORLD_KEY,
    EngineState,
    IncidentTrack,
    World,
    decode_world,
)
from lib.errors import StoreError
from lib.runtime_settings import RUNTIME_FIELD
from lib.store.kv import Reply, Script

if TYPE_CHECKING:
    from lib.store.kv import Kv

BOOK_KEY = "om:engine:book"
CHUNK_SERIES = 12_000
"""Series per book chunk: a thousand servers, ~0.5 MB before compression."""
MAX_COMMIT_BYTES = 9_000_000
"""What one commit may carry: Upstash refuses requests over 10 MB (headers and JSON aside)."""
_RUNS = ("hot_run", "cool_run", "critical_run")
_NO_RUN = np.iinfo(np.int64).min
"""The start stored for a run of length 0 (``bucket - 0`` would change every bucket)."""
_NEVER = 2**62
"""An ``events_from`` no bucket reaches: no events wanted."""
_BOOK_ARRAYS = tuple(f.name for f in fields(AlertBook) if f.name != "bucket")

Call = Callable[..., Reply]


# -- the scripts, in Lua for Redis and in Python for MemoryKv ------------------------------

_BEGIN_LUA = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'busy'} end
local last = redis.call('HGET', KEYS[2], ARGV[4])
if last and tonumber(last) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  local reply = {'idle', last, 0}
  if tonumber(ARGV[5]) <= tonumber(last) then
    for _, e in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[5], last)) do
      table.insert(reply, e)
    end
    reply[3] = #reply - 3
  end
  for _, v in ipairs(redis.call('HGETALL', KEYS[2])) do table.insert(reply, v) end
  return reply
end
local world = redis.call('HGETALL', KEYS[2])
table.insert(world, 1, 'go')
return world
"""


def _begin_local(call: Call, keys: Sequence[str], args: Sequence[str]) -> Reply:
    lock, world, events = keys
    token, ttl_ms, current, last_field, events_from = args
    if call("SET", lock, token, "NX", "PX", ttl_ms) is None:
        return ["busy"]
    last = call("HGET", world, last_field)
    if last is not None and int(str(last)) >= int(current):
        call("DEL", lock)
        new: list[str] = []
        if int(events_from) <= int(str(last)):
            new = call("ZRANGEBYSCORE", events, events_from, last)  # type: ignore[assignment]
        return ["idle", last, len(new), *new, *call("HGETALL", world)]  # type: ignore[misc]
    return ["go", *call("HGETALL", world)]  # type: ignore[misc]


_COMMIT_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[2], ARGV[3]) or '') ~= ARGV[2] then return -1 end
local i = 4
local function put(cmd, key)
  local n = tonumber(ARGV[i])
  i = i + 1
  for s = 0, n - 1, 500 do
    local e = math.min(n, s + 500)
    redis.call(cmd, key, unpack(ARGV, i + 2 * s, i + 2 * e - 1))
  end
  i = i + 2 * n
  return n
end
put('HSET', KEYS[2])
put('HSET', KEYS[3])
if put('ZADD', KEYS[4]) > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[i])
end
redis.call('DEL', KEYS[1])
return 1
"""


def _commit_local(call: Call, keys: Sequence[str], args: Sequence[str]) -> Reply:
    lock, world, book, events = keys
    if call("GET", lock) != args[0]:
        return 0
    if (call("HGET", world, args[2]) or "") != args[1]:
        return -1
    i = 3
    written = []
    for command, key in (("HSET", world), ("HSET", book), ("ZADD", events)):
        n = int(args[i])
        if n:
            call(command, key, *args[i + 1 : i + 1 + 2 * n])
        written.append(n)
        i += 1 + 2 * n
    if written[-1]:
        call("ZREMRANGEBYSCORE", events, "-inf", args[i])
    call("DEL", lock)
    return 1


BEGIN = Script(_BEGIN_LUA, _begin_local)
COMMIT = Script(_COMMIT_LUA, _commit_local)


def _pairs(flat: Sequence[object]) -> dict[str, str]:
    """A flat ``HGETALL`` reply as a mapping."""
    items = [str(x) for x in flat]
    return dict(zip(items[0::2], items[1::2], strict=True))


# -- the book in chunks ----------------------------------------------------------------------


def encode_chunk(book: AlertBook, start: int, stop: int) -> str:
    """Series ``start..stop-1`` of ``book``, runs as start buckets, compressed, as text."""
    parts = []
    for name in _BOOK_ARRAYS:
        values = getattr(book, name)[start:stop]
        if name in _RUNS:
            runs = values.astype(np.int64)
            values = np.where(runs == 0, _NO_RUN, book.bucket - runs)
        parts.append(values.astype(values.dtype.newbyteorder("<")).tobytes())
    return base64.b64encode(zlib.compress(b"".join(parts), 1)).decode()


def decode_chunks(bucket: int, n_series: int, chunks: Sequence[str]) -> AlertBook:
    """The book of ``n_series`` series at ``bucket`` from its chunks, in order."""
    columns: dict[str, list[np.ndarray]] = {name: [] for name in _BOOK_ARRAYS}
    template = AlertBook.empty(0)
    for i, text in enumerate(chunks):
        raw = zlib.decompress(base64.b64decode(text))
        n = min(CHUNK_SERIES, n_series - i * CHUNK_SERIES)
        offset = 0
        for name in _BOOK_ARRAYS:
            dtype = np.dtype(np.int64 if name in _RUNS else getattr(template, name).dtype)
            values = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=n, offset=offset)
            offset += n * dtype.itemsize
            if name in _RUNS:
                values = np.where(values == _NO_RUN, 0, bucket - values)
            columns[name].append(values)
        if offset != len(raw):
            raise StoreError(f"alert book chunk {i} has {len(raw)} bytes, expected {offset}")
    arrays = {
        name: np.concatenate(parts) if parts else getattr(template, name)
        for name, parts in columns.items()
    }
    return AlertBook(bucket=bucket, **arrays)


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def encode_state(state: EngineState) -> tuple[str, list[str]]:
    """The ``engine`` field (everything but the book, and the chunks' digests) and the chunks."""
    book = state.book
    chunks = [
        encode_chunk(book, s, min(book.n_series, s + CHUNK_SERIES))
        for s in range(0, book.n_series, CHUNK_SERIES)
    ]
    meta = {
        "last": state.last,
        "book": {"bucket": book.bucket, "n": book.n_series, "chunks": [digest(c) for c in chunks]},
        "groups": [g.to_dict() for g in state.groups],
        "incidents": [i.to_dict() for i in state.incidents],
        "retention_day": state.retention_day,
        "closed": [i.to_dict() for i in state.closed],
    }
    return json.dumps(meta, separators=(",", ":"), sort_keys=True), chunks


class ChunkMoved(StoreError):
    """A chunk read outside the lock belongs to a newer state than the ``engine`` field read."""


@dataclass(frozen=True)
class Begun:
    """What ``StateStore.begin`` found."""

    outcome: Literal["busy", "idle", "go"]
    token: str = ""
    last: int | None = None
    events: tuple[Event, ...] = ()
    """On ``idle``: the stream events of buckets ``events_from .. last``."""


class StateStore:
    """The engine's KV state for one app instance, with the book chunks it last saw."""

    def __init__(self, kv: Kv, *, lock_ms: int, events_keep_buckets: int) -> None:
        self.kv = kv
        self.lock_ms = lock_ms
        self.events_keep_buckets = events_keep_buckets
        self._chunks: dict[str, str] = {}
        """Digest → chunk text, for the chunks of the last state read or written."""
        self._digests: list[str] = []
        """The digest of each chunk in the KV, as last read or written here."""

    # -- reading -----------------------------------------------------------------------

    def read(self) -> tuple[World, str | None]:
        """The world and the runtime settings' JSON: ``HGETALL``, then any chunks not held.

        Outside the lock a commit may land between the two; the digests tell, and it rereads.
        """
        for _ in range(2):
            try:
                return self._decode(self.kv.hgetall(WORLD_KEY))
            except ChunkMoved:
                continue
        return self._decode(self.kv.hgetall(WORLD_KEY))

    def _decode(self, fields_: Mapping[str, str]) -> tuple[World, str | None]:
        world = decode_world({k: v for k, v in fields_.items() if k != ENGINE})
        state = None
        if ENGINE in fields_:
            meta = json.loads(fields_[ENGINE])
            if isinstance(meta["book"], str):
                # Written before the book moved out (the whole state in one field): read it as
                # it is; the next commit writes every chunk, as none is known to be stored.
                state, self._digests = EngineState.from_json(fields_[ENGINE]), []
            else:
                state = self._state(meta)
        return replace(world, state=state), fields_.get(RUNTIME_FIELD)

    def _state(self, meta: dict[str, object]) -> EngineState:
        book_meta = meta["book"]
        assert isinstance(book_meta, dict)
        digests: list[str] = book_meta["chunks"]
        missing = [i for i, d in enumerate(digests) if d not in self._chunks]
        if missing:
            (reply,) = self.kv.pipeline([("HMGET", BOOK_KEY, *map(str, missing))])
            if isinstance(reply, StoreError):
                raise reply
            assert isinstance(reply, list)
            for i, text in zip(missing, reply, strict=True):
                if not isinstance(text, str) or digest(text) != digests[i]:
                    raise ChunkMoved(f"alert book chunk {i} changed under the reader")
                self._chunks[digests[i]] = text
        self._chunks = {d: self._chunks[d] for d in digests}
        self._digests = list(digests)
        book = decode_chunks(
            int(book_meta["bucket"]), int(book_meta["n"]), [self._chunks[d] for d in digests]
        )
        return EngineState(
            last=int(meta["last"]),  # type: ignore[call-overload]
            book=book,
            groups=tuple(AlertGroup.from_dict(g) for g in meta["groups"]),  # type: ignore[attr-defined]
            incidents=tuple(IncidentTrack.from_dict(i) for i in meta["incidents"]),  # type: ignore[attr-defined]
            retention_day=int(meta["retention_day"]),  # type: ignore[call-overload]
            closed=tuple(IncidentTrack.from_dict(i) for i in meta.get("closed", ())),  # type: ignore[attr-defined]
        )

    # -- one advance: begin, commit ------------------------------------------------------

    def begin(
        self, current: int, events_from: int | None = None
    ) -> tuple[Begun, World | None, str | None]:
        """Lock and compare the cursor in one call. On ``go`` the world, read under the lock; on
        ``idle`` the world someone else advanced and, if ``events_from`` is given, the events of
        buckets ``events_from .. last``."""
        token = uuid.uuid4().hex
        first = _NEVER if events_from is None else events_from
        keys = [LOCK_KEY, WORLD_KEY, EVENTS_KEY]
        reply = self.kv.eval(BEGIN, keys, [token, self.lock_ms, current, LAST, first])
        assert isinstance(reply, list)
        outcome = str(reply[0])
        if outcome == "busy":
            return Begun("busy"), None, None
        if outcome == "idle":
            n = int(str(reply[2]))
            events = tuple(Event.from_json(str(m)) for m in reply[3 : 3 + n])
            world, runtime = self._decode(_pairs(reply[3 + n :]))
            return Begun("idle", last=int(str(reply[1])), events=events), world, runtime
        try:
            world, runtime = self._decode(_pairs(reply[1:]))
        except BaseException:
            self.release(token)
            raise
        return Begun("go", token, world.last), world, runtime

    def commit(
        self,
        token: str,
        base_last: int | None,
        state: EngineState,
        recovered: Mapping[str, int],
        events: Sequence[Event],
    ) -> bool:
        """Write ``state`` (changed chunks only), ``recovered`` and ``events``, and release the
        lock: all or nothing, and nothing unless ``token`` still holds the lock and the cursor
        is still ``base_last``. Returns whether it was written."""
        meta, chunks = encode_state(state)
        world_fields = {ENGINE: meta, LAST: str(state.last)}
        world_fields |= {f"{RECOVERED}{k}": str(v) for k, v in recovered.items()}
        known = self._digests
        changed = {
            str(i): c for i, c in enumerate(chunks) if i >= len(known) or digest(c) != known[i]
        }
        horizon = state.last - self.events_keep_buckets
        args: list[str | int | float] = [token, "" if base_last is None else str(base_last), LAST]
        for mapping in (world_fields, changed):
            args.append(len(mapping))
            for k, v in mapping.items():
                args += [k, v]
        args.append(len(events))
        for e in events:
            args += [e.bucket, e.to_json()]
        args.append(horizon)
        size = sum(len(str(a)) for a in args) + len(COMMIT.lua)
        if size > MAX_COMMIT_BYTES:
            self.release(token)
            raise StoreError(
                f"the engine state change is {size:,} bytes, over the {MAX_COMMIT_BYTES:,} one "
                "KV request may carry; lower FLEET_SIZE (see the README's fleet sizes)",
                backend=self.kv.backend,
            )
        written = self.kv.eval(COMMIT, [LOCK_KEY, WORLD_KEY, BOOK_KEY, EVENTS_KEY], args) == 1
        if written:
            self._digests = [digest(c) for c in chunks]
            self._chunks = dict(zip(self._digests, chunks, strict=True))
        return written

    def release(self, token: str) -> None:
        """Give the lock back unless it has passed to someone else."""
        self.kv.delete_if_equals(LOCK_KEY, token)

    def take(self) -> str | None:
        """The lock by itself (operator actions), as a token, or None while someone holds it."""
        token = uuid.uuid4().hex
        return token if self.kv.set(LOCK_KEY, token, nx=True, px=self.lock_ms) else None
