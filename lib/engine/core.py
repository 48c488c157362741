"""``Engine``: the event-driven pipeline, run by whoever asks first, once per bucket.

``advance(now)`` takes a KV lock for the unprocessed bucket range, then for each bucket:
window → detect → alert transitions → grouping → incidents and recovery decisions →
persistence (through the outbox) → events; it records the last processed bucket and
releases the lock. Nothing waits on a timer: reads call it opportunistically, ``/api/tick``
(Vercel Cron, any pinger) calls it on purpose.

Exactly once: one lock holder processes a range. Should a holder die half way, the next one
redoes the range from the saved state, and every write it repeats is idempotent: alert ids
derive from (server, metric, fired bucket), incident ids from the simulator, recovery
decisions from a hash of the incident id, events serialise deterministically. Should a holder
stall past the lock's expiry, its save is fenced off (``lib.engine.state_store``): the state
and events are written only by whoever still holds the lock, in the same script call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lib.alerts import (
    AlertBook,
    Notification,
    alert_events,
    group_alerts,
    notifiable,
    step_many,
)
from lib.clock import Buckets, Clock, monotonic, pause
from lib.config import Settings
from lib.engine.alert_links import alert_links
from lib.engine.detection import ADAPTIVE, Scorer, alert_levels, detect, static_scorer
from lib.engine.reconcile import orphan_writes
from lib.engine.records import (
    Event,
    alert_writes,
    at,
    incident_event,
    incident_record,
    minute_floor,
    minute_rollups,
)
from lib.engine.recovery import plan_recovery
from lib.engine.state_store import StateStore
from lib.engine.world import (
    EVENTS_KEY,
    EngineState,
    IncidentTrack,
    World,
)
from lib.errors import StoreError
from lib.runtime_settings import RuntimeSettings, effective_settings
from lib.sim import (
    METRICS,
    NO_INCIDENT,
    SERVER_STATUSES,
    Fleet,
    Impact,
    Overrides,
    build_fleet,
    window,
    window_truth,
)
from lib.store.outbox import Outbox

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lib.store.db import Repository
    from lib.store.kv import Kv

log = logging.getLogger("openmanager.engine")

OFFLINE = SERVER_STATUSES.index("offline")


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


@dataclass
class _Batch:
    """What processing a bucket range produced, to be written at the end."""

    writes: list[tuple[str, list[BaseModel]]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    recovered: dict[str, int] = field(default_factory=dict)
    fired: int = 0
    detected: int = 0

    def write(self, op: str, records: list[BaseModel]) -> None:
        if records:
            self.writes.append((op, records))


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
        # One script call: the lock, the cursor compared with ``current``, the world read.
        begun, world, runtime_json = self.store.begin(current)
        if begun.outcome == "busy":
            return AdvanceReport("busy", current)
        if world is None:
            self.forget()  # another instance advanced: read its state on the next view
            return AdvanceReport("idle", current)
        self._world, self._runtime_json, self._read_at_bucket = world, runtime_json, current
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
        """Detailed processing of buckets ``c0 .. b1 - 1``, in chunks cut at each decision.

        A recovery decision changes the simulated world from the bucket it takes effect, so
        the chunk stops there and the rest is recomputed with the decision in force.
        """
        book, groups = state.book, state.groups
        tracks = {t.id: t for t in state.incidents}
        while c0 < b1:
            world_now = replace(overrides, recovered_at=dict(recovered))
            det = detect(self.fleet, world_now, c0, b1, scorer=self.scorer)
            truth, impacts = window_truth(self.fleet, c0, b1, world_now)
            offline = np.repeat(det.status == OFFLINE, len(METRICS), axis=1)
            failed = self._failed_mask(tracks, recovered, c0, b1)
            levels = alert_levels(det)
            stepped, transitions = step_many(
                book, det.score, levels, c0, offline=offline, recovery_failed=failed
            )
            by_bucket: dict[int, list] = {}
            for t in transitions:
                by_bucket.setdefault(t.bucket, []).append(t)
            cut = b1
            b = c0
            while b < cut:
                here = by_bucket.get(b, [])
                inserts, changes, events = alert_writes(self.fleet, det, here)
                batch.write("insert_alerts", inserts)  # type: ignore[arg-type]
                batch.write("update_alert_states", changes)  # type: ignore[arg-type]
                batch.events.extend(events)
                batch.fired += len(inserts)
                grouping = group_alerts(
                    alert_events(here, METRICS), groups, self.depends_on, self.fleet.ids, b
                )
                groups = grouping.groups
                for absorbed, survivor in grouping.merged:
                    tracks = {
                        k: replace(t, group_id=survivor) if t.group_id == absorbed else t
                        for k, t in tracks.items()
                    }
                batch.notifications.extend(grouping.notifications)
                for note in grouping.notifications:
                    batch.events.append(Event("alert", b, _notification_data(self.fleet, note)))
                    if note.reason != "opened":
                        continue
                    track = self._on_opened(note, b, truth[b - c0], impacts, tracks, runtime, batch)
                    if track is None:
                        continue
                    # The decision changes the world (or the alert levels) from the bucket it
                    # takes effect: stop this chunk there and recompute the rest with it.
                    effect = _effect_bucket(track)
                    if effect is not None:
                        cut = min(cut, max(effect, b + 1))
                    if track.recovered_plan is not None:
                        recovered[track.id] = track.recovered_plan
                        batch.recovered[track.id] = track.recovered_plan
                tracks = self._run_plans(tracks, b, batch)
                links = alert_links(self.fleet, groups, tracks, b, grouping.merged)
                batch.write("update_alert_states", links)  # type: ignore[arg-type]
                tracks = self._close_finished(tracks, {g.id for g in groups}, b, batch, world)
                b += 1
            if cut < b1:
                stepped, _ = step_many(
                    book,
                    det.score[: cut - c0],
                    levels[: cut - c0],
                    c0,
                    offline=offline[: cut - c0],
                    recovery_failed=failed[: cut - c0],
                )
            book = stepped
            c0 = cut
        return EngineState(
            last=b1 - 1,
            book=book,
            groups=groups,
            incidents=tuple(tracks.values()),
            retention_day=state.retention_day,
        )

    def _failed_mask(
        self, tracks: dict[str, IncidentTrack], recovered: dict[str, int], c0: int, b1: int
    ) -> np.ndarray:
        """bool[T, series]: the series' incident failed its recovery and is not resolved."""
        mask = np.zeros((b1 - c0, self.fleet.size, len(METRICS)), dtype=bool)
        for t in tracks.values():
            failed = t.failure_bucket
            if failed is None:
                continue
            until = recovered.get(t.id, b1)
            rows = slice(max(0, failed - c0), max(0, min(b1, until) - c0))
            mask[rows, list(t.servers), :] = True
        return mask.reshape(b1 - c0, -1)

    def _on_opened(
        self,
        note: Notification,
        bucket: int,
        truth: np.ndarray,
        impacts: tuple[Impact, ...],
        tracks: dict[str, IncidentTrack],
        runtime: RuntimeSettings,
        batch: _Batch,
    ) -> IncidentTrack | None:
        """A new alert group: find the incident behind its root server and act on it.

        Diagnosis reads which incident acts on the root server: in this simulated data
        centre the simulator plays the on-host agent an operator's runbook would query.
        A group with no incident behind it is a false alert: notified, never "recovered".
        """
        root, servers = note.root, note.servers
        index = _incident_on(truth, (root, *servers))
        if index is None:
            return None
        incident = impacts[index].incident
        if incident.id in tracks:
            return None
        affected = tuple(
            sorted({s for g in impacts[index].groups for s in g.servers} | set(incident.targets))
        )
        track = IncidentTrack(
            id=incident.id,
            type=incident.type,
            servers=affected,
            root=root,
            started_bucket=incident.start_bucket,
            detected_bucket=bucket,
            group_id=note.group_id,
            timeline=(
                (incident.start_bucket, "started", f"{incident.type} began"),
                (bucket, "detected", note.summary_en),
            ),
        )
        if runtime.auto_recovery:
            track = plan_recovery(
                track,
                seed=self.settings.seed,
                success_rate=runtime.recovery_success_rate,
                bucket_seconds=self.settings.bucket_seconds,
            )
        tracks[incident.id] = track
        batch.detected += 1
        batch.write("upsert_incidents", [incident_record(self.fleet, track)])
        batch.events.append(incident_event(self.fleet, track, bucket, "detected"))
        return track

    def _run_plans(
        self, tracks: dict[str, IncidentTrack], bucket: int, batch: _Batch
    ) -> dict[str, IncidentTrack]:
        out = {}
        for key, t in tracks.items():
            due = [p for p in t.plan if p[0] == bucket]
            for _, event, reason in due:
                t = _apply_step(t, bucket, event, reason)
                batch.write("upsert_incidents", [incident_record(self.fleet, t)])
                batch.events.append(incident_event(self.fleet, t, bucket, event))
            out[key] = t
        return out

    def _close_finished(
        self,
        tracks: dict[str, IncidentTrack],
        open_groups: set[str],
        bucket: int,
        batch: _Batch,
        world: World,
    ) -> dict[str, IncidentTrack]:
        """An incident whose alerts have all cleared is over; closed ones leave the state."""
        out = {}
        for key, t in tracks.items():
            if t.group_id in open_groups:
                out[key] = t
                continue
            if t.status == "recovering" and any(p[0] > bucket for p in t.plan):
                out[key] = t  # alerts cleared before the action finished: wait for it
                continue
            operator = world.resolved_by.get(t.id)
            if operator is not None:
                final, by, reason = "resolved", operator, f"resolved by {operator}"
            elif t.recovered_bucket is not None:
                final, by, reason = "recovered", "engine", f"{t.strategy} restored service"
            else:
                final, by, reason = "resolved", "self", "metrics back to normal by themselves"
            closed = replace(
                t,
                status=final,
                resolved_bucket=bucket if final == "resolved" else t.resolved_bucket,
                resolved_by=by,
                timeline=(*t.timeline, (bucket, "closed", reason)),
                plan=(),
            )
            batch.write("upsert_incidents", [incident_record(self.fleet, closed)])
            batch.events.append(incident_event(self.fleet, closed, bucket, "closed"))
        return out

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
        """Stream events of buckets ``b0 <= b < b1``, in bucket order."""
        members = self.kv.zrangebyscore(EVENTS_KEY, b0, b1 - 1)
        return sorted((Event.from_json(m) for m in members), key=lambda e: e.bucket)


def _incident_on(truth: np.ndarray, servers: tuple[int, ...]) -> int | None:
    """The incident acting on the first of ``servers`` that has one.

    ``truth`` is int16[server, metric] of incident indices (``NO_INCIDENT`` for none).
    """
    for s in servers:
        hits = truth[s][truth[s] != NO_INCIDENT]
        if hits.size:
            return int(np.bincount(hits).argmax())
    return None


def _apply_step(t: IncidentTrack, bucket: int, event: str, reason: str) -> IncidentTrack:
    timeline = (*t.timeline, (bucket, event, reason))
    if event == "recovery_started":
        return replace(t, status="recovering", recovery_bucket=bucket, timeline=timeline)
    if event == "recovered":
        return replace(t, status="recovering", recovered_bucket=bucket, timeline=timeline)
    return replace(t, status="escalated", escalated_bucket=bucket, timeline=timeline)


def _no_notifier(notifications: list[Notification], incidents: list[Event], min_level: str) -> None:
    """The default: notifications reach operators through the stream and the API only."""


def _effect_bucket(track: IncidentTrack) -> int | None:
    """Where a new track's plan first changes the world or the alert levels."""
    changes = [b for b, event, _ in track.plan if event in ("recovered", "recovery_failed")]
    return min(changes) if changes else None


def _notification_data(fleet: Fleet, note: Notification) -> dict[str, object]:
    return {
        "kind": "notification",
        "group_id": note.group_id,
        "reason": note.reason,
        "level": note.level.label,
        "root_server": fleet.ids[note.root],
        "servers": [fleet.ids[s] for s in note.servers],
        "metrics": list(note.metrics),
        "summary_en": note.summary_en,
        "summary_ko": note.summary_ko,
    }
