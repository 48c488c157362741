"""A worker that drives ``Engine.advance`` through a range of buckets, for the exactly-once
tests: run in threads or in separate processes, against shared stores."""

from __future__ import annotations

from dataclasses import dataclass

from lib.clock import FixedClock
from lib.config import Settings
from lib.engine import Engine
from lib.store.supabase_repository import SupabaseRepository
from lib.store.upstash_kv import UpstashKv


@dataclass(frozen=True)
class Job:
    """Where the shared stores are and which buckets to walk."""

    settings: dict[str, object]
    kv_url: str
    kv_token: str
    db_url: str
    db_key: str
    first_bucket: int
    buckets: int


@dataclass(frozen=True)
class Tally:
    """What one worker's calls reported."""

    advanced: int
    busy: int
    alerts_fired: int
    incidents_detected: int
    recoveries_planned: int


def run(job: Job) -> Tally:
    settings = Settings(_env_file=None, **job.settings)  # type: ignore[arg-type]
    kv = UpstashKv(job.kv_url, job.kv_token, timeout_s=5.0)
    repo = SupabaseRepository(job.db_url, job.db_key, timeout_s=5.0)
    clock = FixedClock(settings.epoch_s + job.first_bucket * settings.bucket_seconds + 0.5)
    engine = Engine(settings, kv, lambda: repo, clock)
    advanced = busy = fired = detected = planned = 0
    for _ in range(job.buckets):
        report = engine.advance(clock.now())
        advanced += report.outcome == "advanced"
        busy += report.outcome == "busy"
        fired += report.alerts_fired
        detected += report.incidents_detected
        planned += sum(
            1
            for e in report.events
            if e.kind == "incident" and e.data["change"] == "recovery_started"
        )
        clock.advance(settings.bucket_seconds)
    kv.close()
    repo.close()
    return Tally(advanced, busy, fired, detected, planned)
