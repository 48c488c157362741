"""The engine's lock is fenced: a holder that stalls past the lock's expiry saves nothing, one
that dies half way has its range redone, and either way every alert, incident and event comes
out once and as a lone engine produces them; on both KV adapters (Upstash through its REST
server in front of a real redis-server)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from lib.alerts import Notification
from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.engine import Engine, EngineLimits
from lib.engine.core import Notifier
from lib.engine.operator import inject
from lib.engine.records import Event
from lib.engine.world import EVENTS_KEY, LOCK_KEY
from lib.store.kv import Kv
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository

START = DEFAULT_EPOCH_S + 20 * 86_400 + 10 * 3600 + 0.5
LOCK_MS = 1_000
LONG_MS = 60_000
SETTINGS = Settings(_env_file=None, failures_enabled=False, recovery_success_rate=1.0)  # type: ignore[call-arg]


class Crash(Exception):
    """A holder dying half way (its process gone: it releases nothing)."""


def _engine(
    kv: Kv,
    repo: SqliteRepository,
    clock: FixedClock,
    notify: Notifier | None = None,
    lock_ms: int = LOCK_MS,
) -> Engine:
    limits = EngineLimits(lock_ms=lock_ms)
    return Engine(SETTINGS, kv, lambda: repo, clock, limits=limits, notify=notify)


def _prepared(kv: Kv, repo: SqliteRepository) -> tuple[FixedClock, int]:
    """A warm state, then a sudden failure injected: the next range fires alerts and an
    incident."""
    clock = FixedClock(START)
    engine = _engine(kv, repo, clock, lock_ms=LONG_MS)
    engine.advance(clock.now())
    for _ in range(5):
        clock.advance(60)
        engine.advance(clock.now())
    inject(engine, clock.now() + 3, "config_error", ["api-02"], 600)
    clock.advance(120)
    return clock, engine.buckets.bucket_of(clock.now())


def _events(kv: Kv) -> list[str]:
    """The stream events saved, with injected incidents' random ids made comparable."""
    saved = kv.zrangebyscore(EVENTS_KEY, float("-inf"), float("inf"))
    return [re.sub(r"inj-(\d+)-[0-9a-f]+", r"inj-\1", e) for e in saved]


def _wait_for_lock_expiry(kv: Kv) -> None:
    deadline = time.monotonic() + 10
    while kv.get(LOCK_KEY) is not None:
        assert time.monotonic() < deadline, "the lock never expired"
        time.sleep(0.05)


def _reference(tmp_path: Path) -> tuple[list[str], list[str], list[str]]:
    """What a lone engine on fresh stores produces for the same range."""
    kv, repo = MemoryKv(), SqliteRepository(str(tmp_path / "reference.db"))
    clock, _ = _prepared(kv, repo)
    notes: list[Notification] = []
    _engine(kv, repo, clock, lambda n, *_: notes.extend(n), LONG_MS).advance(clock.now())
    alerts = sorted(a.id for a in repo.list_alerts())
    repo.close()
    return _events(kv), alerts, sorted(f"{n.group_id}:{n.reason}" for n in notes)


def test_a_holder_that_stalls_past_the_lock_saves_nothing(
    kv: Kv, repo: SqliteRepository, tmp_path: Path
) -> None:
    clock, current = _prepared(kv, repo)
    successor_reports = []
    notes: list[Notification] = []

    def stall(received: list[Notification], incidents: list[Event], floor: str) -> None:
        notes.extend(received)
        if not successor_reports:  # half way: processed, not saved; the lock expires
            _wait_for_lock_expiry(kv)
            successor = _engine(kv, repo, clock, lambda n, *_: notes.extend(n), LONG_MS)
            successor_reports.append(successor.advance(clock.now()))

    stalled = _engine(kv, repo, clock, stall).advance(clock.now())

    (successor,) = successor_reports
    assert successor.outcome == "advanced"
    assert stalled.outcome == "fenced"
    assert stalled.processed == successor.processed
    events, alerts, notified = _reference(tmp_path)
    assert successor.events  # the range had something to fire
    assert _events(kv) == events
    assert sorted(a.id for a in repo.list_alerts()) == alerts
    # The stalled holder told its notifier too, with the same keys: push records are keyed,
    # so nothing reaches an operator twice, and nothing is missing.
    assert sorted({f"{n.group_id}:{n.reason}" for n in notes}) == notified
    assert kv.get(LOCK_KEY) is None  # the successor released its own lock
    fresh = _engine(kv, repo, clock)
    assert fresh.world(clock.now()).last == current


def test_a_holder_that_dies_half_way_is_redone_once_its_lock_expires(
    kv: Kv, repo: SqliteRepository, tmp_path: Path
) -> None:
    clock, current = _prepared(kv, repo)

    def die(*_: object) -> None:
        raise Crash

    dying = _engine(kv, repo, clock, die, lock_ms=3_000)  # held well past its processing
    dying.store.release = lambda token: None  # type: ignore[method-assign]
    with pytest.raises(Crash):
        dying.advance(clock.now())
    assert kv.get(LOCK_KEY) is not None  # the dead holder's lock outlives it

    notes: list[Notification] = []
    successor = _engine(kv, repo, clock, lambda n, *_: notes.extend(n), LONG_MS)
    assert successor.advance(clock.now()).outcome == "busy"
    _wait_for_lock_expiry(kv)
    report = successor.advance(clock.now())

    assert report.outcome == "advanced"
    events, alerts, notified = _reference(tmp_path)
    assert _events(kv) == events
    assert sorted(a.id for a in repo.list_alerts()) == alerts
    assert sorted(f"{n.group_id}:{n.reason}" for n in notes) == notified
    assert successor.world(clock.now(), fresh=True).last == current


def test_a_fenced_tick_is_reported_not_a_server_error() -> None:
    from lib.engine.core import AdvanceReport
    from lib.http.schemas.operations import TickReport

    tick = TickReport.of(AdvanceReport("fenced", 100, processed=(90, 101)))
    assert tick.outcome == "fenced"
    assert tick.processed is not None
    assert tick.processed.buckets == 11
