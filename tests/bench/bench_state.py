"""Benchmark of the engine's state through the Upstash adapter at a large fleet.

Run it with::

    .venv/bin/python -m tests.bench.bench_state [--servers 10000] [--advances 10]

The engine runs on ``UpstashKv`` → the Upstash REST server of ``tests/support`` (which enforces
Upstash's 10 MB request limit) → a real redis-server. Printed: KV commands (as Upstash bills
them), bytes sent and received, and the largest request, for the first advance (the whole
state written), for steady advances of ``ADVANCE_BATCH_BUCKETS`` buckets each, and for a fresh
instance's first read (the whole state read). Beside them, the alert book's size raw (42 bytes
a series) against its compressed chunks. Nothing is asserted but that every call succeeds and
stays under the request limit.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lib.clock import FixedClock, MonotonicTimer
from lib.config import Settings
from lib.engine import Engine, EngineLimits
from lib.engine.state_store import BOOK_KEY
from lib.store.sqlite_repository import SqliteRepository
from lib.store.upstash_kv import UpstashKv
from tests.bench.bench_api import START
from tests.support.ports import free_port
from tests.support.redis_service import RedisServer, find_redis_server
from tests.support.upstash_server import MAX_REQUEST_BYTES, UpstashServer

COMMAND = ".venv/bin/python -m tests.bench.bench_state"


@dataclass(frozen=True)
class Step:
    commands: int
    sent: int
    received: int
    largest: int
    seconds: float


def measured(kv: UpstashKv, upstash: UpstashServer, action: object) -> Step:
    """Run ``action()`` and what it cost on the wire (``sent``: requests, ``received``: replies)."""
    upstash.reset()
    before = kv.commands_sent
    timer = MonotonicTimer()
    action()  # type: ignore[operator]
    stats = upstash.stats
    return Step(
        kv.commands_sent - before,
        stats.bytes_received,
        stats.bytes_sent,
        stats.largest_request,
        timer.elapsed_s(),
    )


def row(label: str, s: Step) -> str:
    return (
        f"{label:<34}{s.commands:>9}{s.sent / 1e3:>12.1f}{s.received / 1e3:>12.1f}"
        f"{s.largest / 1e3:>14.1f}{s.seconds:>9.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--advances", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"command: {COMMAND} --servers {args.servers} --advances {args.advances}")
    root = Path(tempfile.mkdtemp(prefix="openmanager-bench-"))
    redis = RedisServer(find_redis_server(), root, free_port())
    redis.start()
    try:
        with UpstashServer(redis.url) as upstash:
            run(args.servers, args.advances, upstash, root)
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(servers: int, advances: int, upstash: UpstashServer, root: Path) -> None:
    settings = Settings(_env_file=None, fleet_size=servers)  # type: ignore[call-arg]
    kv = UpstashKv(upstash.url, upstash.token, timeout_s=60.0)
    repo = SqliteRepository(str(root / "om.db"))
    clock = FixedClock(START)
    # The lock outlives any advance here: this measures bytes and commands, and a loaded
    # machine takes longer than a function's 60 s to process 120,000 series.
    limits = EngineLimits(batch_buckets=settings.advance_batch_buckets, lock_ms=3_600_000)
    engine = Engine(settings, kv, lambda: repo, clock, limits=limits)
    engine.fleet  # noqa: B018 - built before timing: the simulator is not what is measured

    print(f"\n{servers:,} servers, {servers * 12:,} alert series; Upstash request limit "
          f"{MAX_REQUEST_BYTES / 1e6:.1f} MB")  # fmt: skip
    print(f"{'':<34}{'commands':>9}{'sent KB':>12}{'received KB':>12}{'largest KB':>14}{'s':>9}")
    first = measured(kv, upstash, lambda: engine.advance(clock.now()))
    print(row("first advance (whole state)", first))
    steady = []
    for _ in range(advances):
        clock.advance(settings.bucket_seconds * settings.advance_batch_buckets)
        steady.append(measured(kv, upstash, lambda: engine.advance(clock.now())))
    fields = Step.__dataclass_fields__
    median = Step(*(statistics.median(getattr(step, f) for step in steady) for f in fields))
    print(row(f"advance of {settings.advance_batch_buckets} buckets (median)", median))
    worst = max(steady, key=lambda step: step.sent)
    print(row(f"advance of {settings.advance_batch_buckets} buckets (largest)", worst))
    fresh_kv = UpstashKv(upstash.url, upstash.token, timeout_s=60.0)
    reader = Engine(settings, fresh_kv, lambda: repo, clock)
    read = measured(fresh_kv, upstash, lambda: reader.world(clock.now()))
    print(row("fresh instance's first read", read))
    chunks = kv.hgetall(BOOK_KEY)
    stored = sum(len(v) for v in chunks.values())
    raw = servers * 12 * 42
    print(f"\nalert book: {raw / 1e6:.2f} MB raw, {stored / 1e6:.2f} MB in {len(chunks)} chunks "
          f"({raw / stored:.1f}× smaller)")  # fmt: skip
    assert all(step.largest < MAX_REQUEST_BYTES for step in (first, *steady, read))
    repo.close()


if __name__ == "__main__":
    main()
