"""The live fleet stream behind ``GET /api/stream``: one snapshot per bucket, plus the engine's
alert and incident events, resumable with no gap.

Position. A client's place in the stream is a ``Cursor``: the last bucket whose snapshot it has
(``snapshots``) and the last bucket whose alert and incident events it has (``events``, never
later than ``snapshots``). Events lag snapshots: the engine processes buckets in batches
(``EngineLimits.batch_buckets``), so the alerts of bucket ``b`` exist only once a batch
holding ``b`` has run. Every event's ``id:`` is the cursor after it, written ``S`` when both
parts are equal and ``S:E`` otherwise; the browser sends the last one back as
``Last-Event-ID`` and the stream resumes with the snapshots after ``S`` and the events after
``E``. Events of one bucket travel in one write and only the last of them moves ``E``, so a
cut in the middle repeats events rather than losing them.

Time. Buckets come from the app's clock; the stream waits for the next one with
``StreamTiming.sleep`` (``asyncio.sleep`` in production). It closes once
``max_duration_s`` have passed on that same clock, before the platform's time limit, after a
``retry:`` hint. A test gives a ``sleep`` that moves a ``FixedClock`` forward and the stream
runs hours of fleet time in milliseconds, with no real waiting.

Cost. A snapshot is the simulator's window over the new buckets (no detector, no KV). The
engine is driven with ``maybe_advance`` (a batch at a time) and events are read with one
``ZRANGEBYSCORE`` only when the engine's processed bucket has moved.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from starlette.concurrency import run_in_threadpool

from lib.errors import StoreError, ValidationError
from lib.http import sse
from lib.http.errors import public_error
from lib.sim import METRICS, SERVER_STATUSES, assess, window

if TYPE_CHECKING:
    from lib.clock import Buckets
    from lib.engine import Engine, Event
    from lib.http.state import AppState
    from lib.sim import Fleet

_CURSOR = re.compile(r"(-?\d{1,18})(?::(-?\d{1,18}))?")


@dataclass(frozen=True)
class StreamTiming:
    """How long a stream lives and how it waits; ``sleep`` must wait on the app's clock."""

    max_duration_s: float = 50.0
    """Close after this long (Vercel's ``maxDuration`` is 60 s); the browser reconnects."""
    heartbeat_s: float = 15.0
    """Send ``: hb`` after this long without anything else, so proxies keep the connection."""
    retry_ms: int = 1000
    """The ``retry:`` hint: how soon the browser reconnects after a close."""
    replay_s: int = 3600
    """How far back ``Last-Event-ID`` may resume (the engine keeps an hour of events)."""
    chunk_buckets: int = 100
    """Snapshots computed and sent per write while catching up."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(frozen=True)
class Cursor:
    """Snapshots through bucket ``snapshots`` and events through ``events`` were delivered."""

    snapshots: int
    events: int

    def __str__(self) -> str:
        if self.events >= self.snapshots:
            return str(self.snapshots)
        return f"{self.snapshots}:{self.events}"

    @classmethod
    def parse(cls, text: str, field: str) -> Cursor:
        """``S`` or ``S:E`` as the stream writes them; ``ValidationError`` naming ``field``."""
        match = _CURSOR.fullmatch(text.strip())
        if match is None:
            raise ValidationError(f"{field} must be a bucket, e.g. 123 or 123:120", field=field)
        snapshots = int(match[1])
        events = snapshots if match[2] is None else int(match[2])
        return cls(snapshots, min(events, snapshots))


def start_cursor(
    engine: Engine, now: float, resume: Cursor | None, timing: StreamTiming
) -> tuple[Cursor, str | None]:
    """Where a connection starts, and a notice for the client when it cannot resume exactly.

    A new connection starts with the current bucket and the events the engine has not yet
    processed; a resumed one with the buckets after its cursor, at most ``replay_s`` back.
    """
    current = engine.buckets.bucket_of(now)
    processed = engine.world(now).last
    start = current - 1
    fresh = Cursor(start, start if processed is None else min(start, processed))
    if resume is None:
        return fresh, None
    if resume.snapshots > current:
        return fresh, f"Last-Event-ID {resume} is ahead of bucket {current}: starting now"
    oldest = current - max(1, timing.replay_s // engine.settings.bucket_seconds)
    if resume.snapshots < oldest:
        notice = (
            f"buckets {resume.snapshots + 1}..{oldest} are older than the {timing.replay_s} s"
            f" the stream replays: resuming at bucket {oldest + 1}"
        )
        return Cursor(oldest, max(resume.events, oldest)), notice
    return resume, None


def snapshot_payloads(
    fleet: Fleet, buckets: Buckets, b0: int, values: npt.NDArray[np.float32]
) -> Iterator[dict[str, Any]]:
    """One snapshot payload per bucket of ``values`` (float32[bucket, server, metric] from b0).

    Compact: ``metrics`` names the order of every server's ``values`` once per snapshot.
    """
    status, health = assess(fleet, values)
    counts = np.stack([(status == s).sum(axis=1) for s in range(len(SERVER_STATUSES))], axis=1)
    mean_health = _finite(health.mean(axis=1), 1)
    rows, healths, names = _finite(values, 2), _finite(health, 1), np.array(SERVER_STATUSES)
    for t in range(values.shape[0]):
        bucket = b0 + t
        yield {
            "bucket": bucket,
            "at": datetime.fromtimestamp(buckets.start_of(bucket), UTC).isoformat()[:19] + "Z",
            "summary": {
                "servers": fleet.size,
                **dict(zip(SERVER_STATUSES, counts[t].tolist(), strict=True)),
                "health": mean_health[t],
            },
            "metrics": METRICS,
            "servers": [
                {"id": sid, "status": st, "health": h, "values": m}
                for sid, st, h, m in zip(
                    fleet.ids, names[status[t]].tolist(), healths[t], rows[t], strict=True
                )
            ],
        }


def _finite(values: npt.NDArray, decimals: int) -> list[Any]:
    """``values`` rounded, as nested lists, with NaN and infinities as ``None``."""
    rounded = np.round(values.astype(np.float64), decimals)
    finite = np.isfinite(rounded)
    if finite.all():
        return rounded.tolist()  # type: ignore[no-any-return]
    boxed = rounded.astype(object)
    boxed[~finite] = None
    return boxed.tolist()  # type: ignore[no-any-return]


def step(engine: Engine, now: float, cursor: Cursor, chunk: int) -> tuple[list[bytes], Cursor]:
    """Drive the engine, then encode what the client lacks: new snapshots (at most ``chunk``)
    and the events the engine processed since ``cursor``, each after its bucket's snapshot."""
    engine.maybe_advance(now)
    current = engine.buckets.bucket_of(now)
    last = min(current, cursor.snapshots + chunk)
    processed = engine.world(now).last
    through = cursor.events if processed is None else max(cursor.events, min(processed, last))
    events = (
        engine.events_between(cursor.events + 1, through + 1) if through > cursor.events else []
    )
    writer = _Writer(cursor, events)
    writer.flush_events(min(cursor.snapshots, through))
    if last > cursor.snapshots:
        b0 = cursor.snapshots + 1
        values = window(engine.fleet, b0, last + 1, engine.overrides(now))
        for payload in snapshot_payloads(engine.fleet, engine.buckets, b0, values):
            writer.snapshot(payload)
            writer.flush_events(min(payload["bucket"], through))
    return writer.frames, writer.cursor


class _Writer:
    """Encodes frames in stream order, each with the cursor after it as its ``id``."""

    def __init__(self, cursor: Cursor, events: list[Event]) -> None:
        self.cursor = cursor
        self.frames: list[bytes] = []
        self._groups = groupby(events, key=lambda e: e.bucket)
        self._next = next(self._groups, None)

    def snapshot(self, payload: dict[str, Any]) -> None:
        self.cursor = Cursor(payload["bucket"], self.cursor.events)
        self.frames.append(sse.encode("snapshot", payload, id=str(self.cursor)))

    def flush_events(self, through: int) -> None:
        """Send the events of buckets up to ``through``; the client then has all of them."""
        while self._next is not None and self._next[0] <= through:
            bucket, group = self._next
            *first, last = list(group)
            before = str(self.cursor)
            self.frames += [_encode(e, before) for e in first]
            self.cursor = Cursor(self.cursor.snapshots, bucket)
            self.frames.append(_encode(last, str(self.cursor)))
            self._next = next(self._groups, None)
        if through > self.cursor.events:
            self.cursor = Cursor(self.cursor.snapshots, through)


def _encode(event: Event, id: str) -> bytes:
    """An alert or incident event: the engine's data plus the bucket it happened in."""
    return sse.encode(event.kind, {**event.data, "bucket": event.bucket}, id=id)


async def live_events(
    state: AppState, cursor: Cursor, notice: str | None, timing: StreamTiming
) -> AsyncIterator[bytes]:
    """The stream of one connection, from ``cursor`` until ``timing.max_duration_s`` pass."""
    clock, buckets, engine = state.clock, state.buckets, state.engine
    deadline = clock.now() + timing.max_duration_s
    yield sse.retry(timing.retry_ms)
    if notice:
        yield sse.comment(notice)
    quiet_since = clock.now()
    while (now := clock.now()) < deadline:
        try:
            frames, cursor = await run_in_threadpool(
                step, engine, now, cursor, timing.chunk_buckets
            )
        except StoreError as exc:
            yield sse.encode("error", public_error(exc, "/api/stream"), id=str(cursor))
            return
        if state.push.pending:
            # Pushes this advance recorded go out beside the stream (within PUSH_BUDGET_S),
            # never in its way: a dashboard with only the stream open still alerts others.
            asyncio.get_running_loop().run_in_executor(None, state.push.deliver)
        if frames:
            yield b"".join(frames)
            quiet_since = now
        # Wait for the next bucket (unless still catching up), with heartbeats meanwhile.
        while (now := clock.now()) < deadline and buckets.bucket_of(now) <= cursor.snapshots:
            if now - quiet_since >= timing.heartbeat_s:
                yield sse.comment("hb")
                quiet_since = now
            wait = min(
                buckets.seconds_to_next_bucket(now),
                quiet_since + timing.heartbeat_s - now,
                deadline - now,
            )
            await timing.sleep(wait)
    yield sse.retry(
        timing.retry_ms,
        f"closing after {timing.max_duration_s:g} s: reconnect with Last-Event-ID {cursor}",
    )
