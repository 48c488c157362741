"""Routine work alerts but opens no incident: a regional traffic surge (and its end), the
nightly batch on the databases, the deploys around them.

The simulator's truth is read here only to choose the span to watch and to check that the
benign events did alert (else the test would prove nothing); the engine never sees it.
"""

from __future__ import annotations

from pathlib import Path

from lib.clock import FixedClock
from lib.config import Settings
from lib.engine import Engine, EngineLimits
from lib.sim import Overrides, TruthEvent, build_fleet, truth_events
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository

DAY = 28_800
FIRST = 18 * DAY  # Monday 2026-01-19 00:00 UTC, as in bench_diagnose
HOUR = 1_200
STEP = 400


def _span(settings: Settings) -> tuple[int, int, list[TruthEvent]]:
    """From an hour before the day's second traffic surge to the end of the batch jobs that
    follow it within two hours, and those events."""
    fleet = build_fleet(
        settings.seed, settings.fleet_size, epoch_s=settings.epoch_s, bucket_seconds=3
    )
    events = truth_events(fleet, FIRST, FIRST + DAY, Overrides(failures_enabled=False))
    surge = [e for e in events if e.type == "traffic_surge"][1]
    batches = [
        e
        for e in events
        if e.type == "batch_job"
        and surge.start_bucket < e.start_bucket < surge.last_bucket + 2 * HOUR
    ]
    watched = [surge, *batches]
    return surge.start_bucket - HOUR, max(e.last_bucket for e in watched) + 100, watched


def test_a_surge_and_the_nightly_batch_alert_but_open_no_incident(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, failures_enabled=False)  # type: ignore[call-arg]
    start, end, watched = _span(settings)
    assert len(watched) >= 2  # the surge and at least one batch job
    repo = SqliteRepository(str(tmp_path / "routine.db"))
    clock = FixedClock(settings.epoch_s + start * settings.bucket_seconds + 0.5)
    engine = Engine(
        settings, MemoryKv(), lambda: repo, clock, limits=EngineLimits(max_detail_buckets=STEP)
    )
    engine.advance(clock.now())
    while engine.buckets.bucket_of(clock.now()) < end:
        clock.advance(STEP * settings.bucket_seconds)
        engine.advance(clock.now())
    ids = engine.fleet.ids
    alerted = {
        ids[s] for e in watched for s in e.targets if repo.list_alerts(server_id=ids[s], limit=1)
    }
    assert alerted, "the benign events raised no alert: nothing was tested"
    assert [(i.type, i.servers) for i in repo.list_incidents(limit=100)] == []
    repo.close()
