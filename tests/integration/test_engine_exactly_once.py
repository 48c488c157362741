"""Sixteen workers — threads and separate processes — advance the same 200 buckets against the
real Redis (through the Upstash REST server) and PostgreSQL (through the PostgREST server):
every alert is fired and persisted once, every recovery decided once, and the outcome is the
one a lone worker on the embedded stores reaches."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.engine import Engine
from lib.engine.operator import inject
from lib.engine.world import EVENTS_KEY, RECOVERED, WORLD_KEY
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from lib.store.supabase_repository import SupabaseRepository
from lib.store.upstash_kv import UpstashKv
from tests.support.engine_worker import Job, Tally, run
from tests.support.postgres_service import SERVICE_ROLE_KEY
from tests.support.postgrest_server import PostgrestServer
from tests.support.upstash_server import UpstashServer

BUCKETS = 200
FIRST = (DEFAULT_EPOCH_S // 3) + 20 * 28_800 + 12_000  # a weekday, 10:00 UTC
SETTINGS: dict[str, object] = {"failure_rate_per_hour": 40.0, "recovery_success_rate": 0.6}


def _prepare(engine: Engine, clock: FixedClock) -> None:
    """Warm the state one bucket before the range, and inject two failures into it."""
    engine.advance(clock.now())
    inject(engine, clock.now() + 30, "cpu_overload", ["api-01"], 300)
    inject(engine, clock.now() + 90, "database_timeout", ["db-02"], 300)


def _world_ids(kv: object) -> dict[str, str]:
    fields = kv.hgetall(WORLD_KEY)  # type: ignore[attr-defined]
    return {k: v for k, v in fields.items() if k.startswith("inj:")}


@pytest.mark.slow
def test_sixteen_workers_process_each_bucket_once(
    tmp_path: Path, upstash_db: UpstashServer, postgrest_db: PostgrestServer
) -> None:
    settings = Settings(_env_file=None, **SETTINGS)  # type: ignore[arg-type]
    start_s = settings.epoch_s + (FIRST - 1) * settings.bucket_seconds + 0.5

    # The reference: one worker on the embedded stores.
    ref_kv, ref_repo = MemoryKv(), SqliteRepository(str(tmp_path / "ref.db"))
    ref_clock = FixedClock(start_s)
    reference = Engine(settings, ref_kv, lambda: ref_repo, ref_clock)
    _prepare(reference, ref_clock)

    shared_kv = UpstashKv(upstash_db.url, upstash_db.token, timeout_s=5.0)
    shared_repo = SupabaseRepository(postgrest_db.url, SERVICE_ROLE_KEY, timeout_s=5.0)
    clock = FixedClock(start_s)
    seeder = Engine(settings, shared_kv, lambda: shared_repo, clock)
    seeder.advance(clock.now())
    # Same injected incidents (same ids) in both worlds.
    shared_kv.hset(WORLD_KEY, _world_ids(ref_kv))

    for _ in range(BUCKETS):
        ref_clock.advance(settings.bucket_seconds)
        reference.advance(ref_clock.now())

    job = Job(
        settings=SETTINGS,
        kv_url=upstash_db.url,
        kv_token=upstash_db.token,
        db_url=postgrest_db.url,
        db_key=SERVICE_ROLE_KEY,
        first_bucket=FIRST,
        buckets=BUCKETS,
    )
    spawn = multiprocessing.get_context("spawn")
    with (
        ThreadPoolExecutor(8) as threads,
        ProcessPoolExecutor(8, mp_context=spawn) as processes,
    ):
        futures = [processes.submit(run, job) for _ in range(8)]
        futures += [threads.submit(run, job) for _ in range(8)]
        tallies: list[Tally] = [f.result(timeout=600) for f in futures]

    ref_alerts = {a.id: a for a in ref_repo.list_alerts(limit=10_000)}
    alerts = {a.id: a for a in shared_repo.list_alerts(limit=10_000)}
    assert ref_alerts, "the range should raise alerts, or this test proves nothing"
    assert sorted(alerts) == sorted(ref_alerts)
    assert {k: (a.state, a.level) for k, a in alerts.items()} == {
        k: (a.state, a.level) for k, a in ref_alerts.items()
    }
    # Each alert fired in exactly one worker's call; each recovery was decided in one.
    assert sum(t.alerts_fired for t in tallies) == len(alerts)
    assert sum(t.advanced for t in tallies) >= 1
    ref_incidents = {i.id: i for i in ref_repo.list_incidents(limit=1_000)}
    incidents = {i.id: i for i in shared_repo.list_incidents(limit=1_000)}
    assert sorted(incidents) == sorted(ref_incidents)
    assert sum(t.incidents_detected for t in tallies) == len(incidents)
    for ident, incident in incidents.items():
        steps = [(e.at, e.event) for e in incident.timeline]
        assert len(steps) == len(set(steps)), f"{ident} has a step twice"
        assert steps == [(e.at, e.event) for e in ref_incidents[ident].timeline]
    decisions = {k: v for k, v in shared_kv.hgetall(WORLD_KEY).items() if k.startswith(RECOVERED)}
    ref_decisions = {k: v for k, v in ref_kv.hgetall(WORLD_KEY).items() if k.startswith(RECOVERED)}
    assert decisions == ref_decisions
    # An incident may try a second strategy: count attempts, not incidents.
    attempts = [e for i in incidents.values() for e in i.timeline if e.event == "recovery_started"]
    assert sum(t.recoveries_planned for t in tallies) == len(attempts)
    # Stream events: no (kind, id, change) twice.
    members = shared_kv.zrangebyscore(EVENTS_KEY, float("-inf"), float("inf"))
    assert len(members) == len(set(members))
    assert sorted(members) == sorted(ref_kv.zrangebyscore(EVENTS_KEY, float("-inf"), float("inf")))
    shared_kv.close()
    shared_repo.close()
    ref_repo.close()
