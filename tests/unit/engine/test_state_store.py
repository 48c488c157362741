"""The alert book in chunks: exact round trips, and unchanged series keep their bytes."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from lib.alerts import AlertBook, step_many
from lib.engine.state_store import (
    BOOK_KEY,
    CHUNK_SERIES,
    StateStore,
    decode_chunks,
    encode_state,
)
from lib.engine.world import ENGINE, LAST, LOCK_KEY, WORLD_KEY, EngineState, IncidentTrack
from lib.store.memory_kv import MemoryKv


def _stepped(n_series: int, buckets: int, seed: int = 7) -> AlertBook:
    """A book after ``buckets`` of random scores, a few series hot."""
    rng = np.random.default_rng(seed)
    scores = rng.random((buckets, n_series)) ** 8
    levels = (scores > 0.9).astype(np.int8) + (scores > 0.97)
    book, _ = step_many(AlertBook.empty(n_series, bucket=99), scores, levels, 100)
    return book


def _assert_same(a: AlertBook, b: AlertBook) -> None:
    assert a.bucket == b.bucket
    for name in ("state", "level", "since_bucket", "started_bucket", "fired_bucket"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("hot_run", "cool_run", "critical_run", "peak_score"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_round_trip_across_several_chunks() -> None:
    book = _stepped(2 * CHUNK_SERIES + 123, 30)
    meta, chunks = encode_state(EngineState(last=book.bucket, book=book))
    assert len(chunks) == 3
    _assert_same(decode_chunks(book.bucket, book.n_series, chunks), book)
    assert '"n":24123' in meta


def test_an_empty_book_round_trips() -> None:
    book = AlertBook.empty(0, bucket=5)
    _, chunks = encode_state(EngineState(last=5, book=book))
    assert chunks == []
    _assert_same(decode_chunks(5, 0, chunks), book)


def test_quiet_series_keep_their_bytes_from_bucket_to_bucket() -> None:
    """A chunk whose series all keep their state is not rewritten, though their runs grew;
    the chunk where an alert starts is."""
    n = 2 * CHUNK_SERIES
    quiet = np.zeros((60, n))
    quiet[:, :10] = 1.0  # the first chunk has hot series, the second none
    hot = (quiet > 0.5).astype(np.int8)
    settled, _ = step_many(_stepped(n, 20), quiet, hot, 120)  # earlier alerts resolve
    book, _ = step_many(settled, quiet[:1], hot[:1], settled.bucket + 1)
    flare = quiet[:5].copy()
    flare[:, 20] = 1.0  # a new alert in the first chunk
    later, _ = step_many(book, flare, (flare > 0.5).astype(np.int8), book.bucket + 1)
    assert (later.cool_run[CHUNK_SERIES:] != book.cool_run[CHUNK_SERIES:]).any()
    _, before = encode_state(EngineState(last=book.bucket, book=book))
    _, after = encode_state(EngineState(last=later.bucket, book=later))
    assert before[0] != after[0]
    assert before[1] == after[1]


def test_chunks_are_compact() -> None:
    book = _stepped(CHUNK_SERIES, 50)
    _, (chunk,) = encode_state(EngineState(last=book.bucket, book=book))
    assert len(chunk) < len(book.to_bytes()) / 4


def test_a_state_saved_before_the_split_is_read_and_rewritten_in_chunks() -> None:
    kv = MemoryKv()
    book = _stepped(100, 10)
    old = EngineState(last=book.bucket, book=book)
    kv.hset(WORLD_KEY, {ENGINE: old.to_json(), LAST: str(old.last)})
    store = StateStore(kv, lock_ms=60_000, events_keep_buckets=100)
    world, _ = store.read()
    assert world.state is not None
    _assert_same(world.state.book, book)
    kv.set(LOCK_KEY, "t")
    assert store.commit("t", old.last, old, {}, [])
    assert kv.hget(BOOK_KEY, "0") is not None
    _assert_same(StateStore(kv, lock_ms=1, events_keep_buckets=1).read()[0].state.book, book)


def test_open_and_lately_closed_incidents_survive_a_commit_and_a_read() -> None:
    """The closed ones are what a leak's next cycle reopens: a function that read a state
    without them would open a new incident each cycle."""
    book = _stepped(100, 10)
    track = IncidentTrack(
        id="inc-api-02-5", type="memory_leak", servers=(3,), root=3, started_bucket=4,
        detected_bucket=5, group_id="grp-a", groups=("grp-a",),
        timeline=((5, "detected", ("en", "ko")),),
    )  # fmt: skip
    gone = replace(
        track, id="inc-api-02-1", status="resolved", resolved_by="self", resolved_bucket=9
    )
    state = EngineState(last=book.bucket, book=book, incidents=(track,), closed=(gone,))
    kv = MemoryKv()
    kv.set(LOCK_KEY, "t")
    assert StateStore(kv, lock_ms=60_000, events_keep_buckets=100).commit("t", None, state, {}, [])
    read = StateStore(kv, lock_ms=1, events_keep_buckets=1).read()[0].state
    assert read is not None
    assert (read.incidents, read.closed) == ((track,), (gone,))

    older = json.loads(kv.hget(WORLD_KEY, ENGINE))
    del older["closed"]  # written before incidents were kept to reopen
    kv.hset(WORLD_KEY, {ENGINE: json.dumps(older)})
    read = StateStore(kv, lock_ms=1, events_keep_buckets=1).read()[0].state
    assert read is not None
    assert (read.incidents, read.closed) == ((track,), ())
