"""``Engine``: the event-driven pipeline, run by whoever asks first, once per bucket.

``advance(now)`` takes a KV lock for the unprocessed bucket range, runs the per-bucket
pipeline over it (``lib.engine.pipeline``: window → detect → alert transitions → grouping →
diagnosis → incidents and recovery decisions), writes what it produced (through the outbox)
and its events, records the last processed bucket and releases the lock. Nothing waits on a
timer: reads call it opportunistically, ``/api/tick`` (Vercel Cron, any pinger) calls it on
purpose.

Exactly once: one lock holder processes a range. Should a holder die half way, the next one
redoes the range from the saved state, and every write it repeats is idempotent: alert ids
derive from (server, metric, fired bucket), incident ids from (root server, detected
bucket), recovery outcomes from a hash of the simulated failure's id, events serialise
deterministically. Should a holder stall past the lock's expiry, its save is fenced off
(``lib.engine.state_store``): the state and events are written only by whoever still holds
the lock, in the same script call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from lib.alerts import AlertBook, Notification, notifiable
from lib.clock import Buckets, Clock, monotonic, pause
from lib.config import Settings
from lib.engine.detection import ADAPTIVE, Scorer, static_scorer
from lib.engine.pipeline import Batch as _Batch
from lib.engine.pipeline import Context, Span, process
from lib.engine.recent_events import RecentEvents
from lib.engine.reconcile import orphan_writes
from lib.engine.records import Event, at, minute_floor, minute_rollups
from lib.engine.state_store import StateStore
from lib.engine.world import (
    EVENTS_KEY,
    EngineState,
    World,
)
from lib.errors import StoreError
from lib.runtime_settings import RuntimeSettings, effective_settings
from lib.sim import METRICS, Fleet, Overrides, build_fleet, window
from lib.store.outbox import Outbox

if TYPE_CHECKING:
    from lib.store.db import Repository
    from lib.store.kv import Kv

log = logging.getLogger("openmanager.engine")


@dataclass(frozen=True)
class EngineLimits:
    """How much one call may do, and how often reads may pay for one."""

    batch_buckets: int = 2
    """Reads advance only once this many buckets wait: the lag of alerts while watched."""
    max_detail_buckets: int = 400
    """Buckets processed in full per call; older pending ones are only rolled up."""
    max_gap_buckets: int = 28_800
    """Rolled-up catch-up per call (a day at 3 s); older gaps stay unrecorded."""
    lock_ms: int = 65_000
    """A crashed holder's lock expires after this: past the function's 60 s ``maxDuration``
    (vercel.json), so a live holder is never fenced off, only a frozen or dead one."""
    view_cache_buckets: int = 10
    """A warm instance rereads the KV at most this often for reads."""
    events_keep_buckets: int = 1_200
    """Stream events kept in the KV (an hour at 3 s)."""


class Notifier(Protocol):
    """Told, inside the lock, what one advance has to notify: must be idempotent."""

    def __call__(
        self, notifications: list[Notification], incidents: list[Event], min_level: str
    ) -> None: ...


@dataclass(frozen=True)
class AdvanceReport:
    """What one ``advance`` call did."""

    outcome: str  # idle | busy | advanced | fenced (the lock was lost: nothing saved)
    bucket: int
    processed: tuple[int, int] | None = None
    alerts_fired: int = 0
    events: tuple[Event, ...] = ()
    incidents_detected: int = 0
    persisted_now: bool = True


class Engine:
    """The shell around the pure core: one per app instance, cheap to keep warm."""

    def __init__(
        self,
        settings: Settings,
        kv: Kv,
        repo: Callable[[], Repository],
        clock: Clock,
        *,
        outbox: Outbox | None = None,
        limits: EngineLimits | None = None,
        scorer: Scorer | None = None,
        notify: Notifier | None = None,
    ) -> None:
        self.settings = settings
        self.kv = kv
        self._repo = repo
        self.clock = clock
        self.outbox = outbox or Outbox(kv)
        self.limits = limits or EngineLimits(batch_buckets=settings.advance_batch_buckets)
        self.scorer = scorer or (ADAPTIVE if settings.adaptive_thresholds else static_scorer)
        """The detector; benchmarks pass baselines here to compare them through one pipeline."""
        self.notify = notify or _no_notifier
        """Receives each advance's notifications at or above ``notify_min_level``, its incident
        events, and that level, once per processed range, inside the lock (``Notifier``).

        Web Push plugs in here (``lib.push.dispatch.PushDispatch.notify`` records; sending
        happens after the lock is released).
        """
        self.buckets = Buckets(settings.epoch_s, settings.bucket_seconds)
        self.store = StateStore(
            kv, lock_ms=self.limits.lock_ms, events_keep_buckets=self.limits.events_keep_buckets
        )
        self._world: World | None = None
        self._runtime_json: str | None = None
        self._read_at_bucket: int | None = None
        self.view_cache: object | None = None
        """The last ``lib.engine.view.FleetView`` built by this instance (one per bucket)."""
        self.view_lock = threading.Lock()
        self.recent = RecentEvents(self.limits.events_keep_buckets)
        """Stream events this instance has seen: its open streams share one read per advance."""

    def repo(self) -> Repository:
        """The repository, opened on first use (the Supabase client is slow to import)."""
        return self._repo()

    @cached_property
    def fleet(self) -> Fleet:
        return build_fleet(
            self.settings.seed,
            self.settings.fleet_size,
            epoch_s=self.settings.epoch_s,
            bucket_seconds=self.settings.bucket_seconds,
        )

    @cached_property
    def depends_on(self) -> tuple[tuple[int, ...], ...]:
        return tuple(
            tuple(int(d) for d in self.fleet.dependencies(i)) for i in range(self.fleet.size)
        )

    @cached_property
    def context(self) -> Context:
        return Context(self.fleet, self.depends_on, self.scorer, self.settings.seed)

    # -- reading the world -----------------------------------------------------------

    def world(self, now: float, *, fresh: bool = False) -> World:
        """The KV's view of the world, reread at most every ``view_cache_buckets``."""
        bucket = self.buckets.bucket_of(now)
        stale = (
            self._world is None
            or self._read_at_bucket is None
            or bucket - self._read_at_bucket >= self.limits.view_cache_buckets
            or bucket < self._read_at_bucket
        )
        if fresh or stale:
            self._read(bucket)
        assert self._world is not None
        return self._world

    def _read(self, bucket: int) -> None:
        self._world, self._runtime_json = self.store.read()
        self._read_at_bucket = bucket

    def forget(self) -> None:
        """Drop the cached world: the next read goes to the KV (after a mutation)."""
        self._world = None

    def runtime(self, now: float) -> RuntimeSettings:
        self.world(now)
        return effective_settings(self.settings, self._runtime_json)

    def overrides(self, now: float) -> Overrides:
        world = self.world(now)
        runtime = self.runtime(now)
        return world.overrides(
            failures_enabled=runtime.failures_enabled,
            failure_rate_per_hour=runtime.failure_rate_per_hour,
        )

    # -- advancing -------------------------------------------------------------------

    def maybe_advance(self, now: float) -> AdvanceReport:
        """What reads call: advance only when a batch of buckets is waiting."""
        return self.advance(now, min_pending=self.limits.batch_buckets)

    def advance(self, now: float, *, min_pending: int = 1) -> AdvanceReport:
        """Process every bucket up to the current one that nobody has processed yet."""
        current = self.buckets.bucket_of(now)
        known = self.world(now).last
        if known is not None and current - known < min_pending:
            return AdvanceReport("idle", current)
        # One script call: the lock, the cursor compared with ``current``, the world read (and
        # when another instance did the work, the events this one's streams lack).
        events_from = self.recent.next_bucket()
        begun, world, runtime_json = self.store.begin(current, events_from)
        if world is None:
            return AdvanceReport("busy", current)
        self._world, self._runtime_json, self._read_at_bucket = world, runtime_json, current
        if begun.outcome == "idle":
            if events_from is not None and begun.last is not None:
                self.recent.add(events_from, begun.last + 1, begun.events)
            return AdvanceReport("idle", current)
        try:
            report = self._advance_locked(world, current, begun.token)
        except BaseException:
            self.store.release(begun.token)
            raise
        if report.outcome == "fenced":
            self.store.release(begun.token)
        return report

    @contextmanager
    def locked(self, *, wait_s: float = 0.0) -> Iterator[str | None]:
        """Hold the engine lock inside the block; yields its token, or None if not obtained.

        ``wait_s`` > 0 polls for that long (operator actions wait; advancing never does).
        """
        deadline = monotonic() + wait_s
        token = self.store.take()
        while token is None and monotonic() < deadline:
            pause(0.05)
            token = self.store.take()
        try:
            yield token
        finally:
            if token is not None:
                self.store.release(token)

    def _advance_locked(self, world: World, current: int, token: str) -> AdvanceReport:
        n_series = self.fleet.size * len(METRICS)
        state = world.state or EngineState(
            last=current - 1, book=AlertBook.empty(n_series, bucket=current - 1)
        )
        runtime = effective_settings(self.settings, self._runtime_json)
        b0, b1 = state.last + 1, current + 1
        detail0 = max(b0, b1 - self.limits.max_detail_buckets)
        batch = _Batch()
        if world.state is None:
            # No state: a first start, or a KV that lost it. Close what nobody tracks now.
            batch.writes += orphan_writes(self.repo, self.fleet, current)
        recovered = dict(world.recovered_at)
        overrides = world.overrides(
            failures_enabled=runtime.failures_enabled,
            failure_rate_per_hour=runtime.failure_rate_per_hour,
        )
        state = self._process(state, overrides, recovered, detail0, b1, runtime, batch, world)
        # Minutes that end inside [b0, b1), recovery decisions in force; older gaps skipped.
        gap0 = max(b0, detail0 - self.limits.max_gap_buckets)
        self._roll_up(replace(overrides, recovered_at=recovered), gap0, b1, batch)
        state = self._retention(state, current, runtime, batch)
        landed = self.outbox.write_many(self.repo(), batch.writes)
        # Before the state is saved: a holder dying in between has its range redone, and the
        # notifier records idempotently (by notice key), so nothing is told twice or lost.
        floor = runtime.notify_min_level
        incidents = [e for e in batch.events if e.kind == "incident"]
        self.notify(notifiable(batch.notifications, floor), incidents, floor)
        if not self._save(world, state, batch, token):
            log.warning("lock lost while processing %s..%s: nothing saved", b0, b1 - 1)
            self.forget()
            return AdvanceReport("fenced", current, processed=(b0, b1), persisted_now=landed)
        self.recent.add(b0, b1, batch.events)
        return AdvanceReport(
            "advanced",
            current,
            processed=(b0, b1),
            alerts_fired=batch.fired,
            events=tuple(batch.events),
            incidents_detected=batch.detected,
            persisted_now=landed,
        )

    def _roll_up(self, overrides: Overrides, b0: int, b1: int, batch: _Batch) -> None:
        """Roll up every whole minute that ends in ``[b0, b1)``, in day-sized windows."""
        start = minute_floor(self.fleet, b0)
        chunk = 2_400
        for c0 in range(start, b1, chunk):
            values = window(self.fleet, c0, min(b1, c0 + chunk), overrides)
            batch.write("upsert_rollups", minute_rollups(self.fleet, values, c0))  # type: ignore[arg-type]

    def _process(
        self,
        state: EngineState,
        overrides: Overrides,
        recovered: dict[str, int],
        c0: int,
        b1: int,
        runtime: RuntimeSettings,
        batch: _Batch,
        world: World,
    ) -> EngineState:
        """Detailed processing of buckets ``c0 .. b1 - 1`` (``lib.engine.pipeline``)."""
        span = Span(c0, b1, overrides, recovered, runtime, world)
        return process(self.context, state, span, batch)

    # -- housekeeping ----------------------------------------------------------------

    def _retention(
        self, state: EngineState, current: int, runtime: RuntimeSettings, batch: _Batch
    ) -> EngineState:
        """Once a UTC day, the first call deletes history older than the retention."""
        day = int((self.buckets.start_of(current)) // 86_400)
        if day <= state.retention_day:
            return state
        cutoff = at(self.fleet, current) - timedelta(days=runtime.retention_days)
        try:
            deleted = self.repo().delete_older_than(cutoff)
        except StoreError as exc:
            log.warning("retention clean-up postponed: %s", exc.message)
            return state
        log.info("retention clean-up before %s: %s", cutoff.isoformat(), deleted)
        return replace(state, retention_day=day)

    def _save(self, world: World, state: EngineState, batch: _Batch, token: str) -> bool:
        """Commit, fenced by ``token``; whether it was written (and the lock released)."""
        if not self.store.commit(token, world.last, state, batch.recovered, batch.events):
            return False
        # What was just written is the world now: no need to read it back.
        self._world = replace(
            world,
            state=state,
            recovered_at=MappingProxyType({**world.recovered_at, **batch.recovered}),
        )
        return True

    # -- reading events --------------------------------------------------------------

    def events_between(self, b0: int, b1: int) -> list[Event]:
        """Stream events of buckets ``b0 <= b < b1`` (processed ones), in bucket order."""
        return self.recent.between(b0, b1, self._read_events)

    def _read_events(self, b0: int, b1: int) -> list[Event]:
        members = self.kv.zrangebyscore(EVENTS_KEY, b0, b1 - 1)
        return sorted((Event.from_json(m) for m in members), key=lambda e: e.bucket)


def _no_notifier(notifications: list[Notification], incidents: list[Event], min_level: str) -> None:
    """The default: notifications reach operators through the stream and the API only."""
