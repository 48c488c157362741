"""Benchmark of the HTTP API: latency under load, cold import, and what viewers cost.

Run it with::

    .venv/bin/python -m tests.bench.bench_api [--seconds 30] [--clients 50] [--only cold|cost]

Four tables, each with its baseline measured in the same run:

1. Latency. The app (embedded defaults: in-process KV, SQLite) is served by uvicorn in a
   subprocess with its rate limits lifted; ``--clients`` httpx clients hit one route at a
   time for ``--seconds`` each, in closed loops. p50/p95/p99 and requests/s per route, beside
   ``/api/health`` as the floor of the stack. Target: ``/api/fleet`` p95 <= 25 ms.
2. Cold start. Importing ``api.index`` (the Vercel entrypoint, ``create_app()`` included)
   against importing the four frameworks every request needs (fastapi, numpy,
   pydantic_settings, httpx), each in a fresh interpreter, as 7 interleaved pairs; medians
   and their ratio (target <= 1.2). Beside it, a fresh process's first ``/api/fleet``
   response: import, app, engine and first advance, as a cold function's first visitor waits.
3. Cost and lag. One and ten viewers poll the dashboard's routes once a bucket (and one
   viewer beside ten open ``/api/stream`` connections on the same instance) for ten
   fleet-minutes on an accelerated clock, through a CDN emulation that keeps each response for
   its ``s-maxage``, at 30 and at 1,000 servers; the app reaches a real redis-server through
   the Upstash REST server of ``tests/support``, which counts the commands it receives (a
   script call is one, as Upstash bills it). Requests that reach the app are function
   invocations. Lag is ``bucket - processed_through`` as each viewer's ``/api/fleet`` shows it.
   Then ten fleet-minutes with nobody watching, and a monthly table: commands for 1 h, 8 h and
   24 h watched a day, beside Upstash's free 500K a month.
4. Instances. Streams in one instance share its engine; on Vercel several warm instances may
   each hold streams. One, two and four instances sharing the KV, one stream each: commands a
   minute and what each extra instance adds (budget ``EXTRA_INSTANCE_BUDGET_PER_MIN``).

Asserted, as ratios and budgets only: KV commands do not grow with viewers or streams, one
viewer costs at most ``KV_BUDGET_PER_MIN`` commands a minute, lag stays within
``LAG_BUDGET_BUCKETS``, and nobody watching costs nothing. Times are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

from lib.clock import FixedClock, MonotonicTimer, SystemClock, pause
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.http import live
from lib.http.app import create_app
from tests.bench.provenance import commit
from tests.support.ports import free_port
from tests.support.redis_service import RedisServer, find_redis_server
from tests.support.upstash_server import UpstashServer

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

COMMAND = ".venv/bin/python -m tests.bench.bench_api"
ROOT = Path(__file__).resolve().parents[2]
KV_BUDGET_PER_MIN = 30
LAG_BUDGET_BUCKETS = 2
FLEETS = (30, 1_000)
WATCHED_HOURS = (1, 8, 24)
FREE_COMMANDS_PER_MONTH = 500_000
FLEET_MINUTES = 10
POLLED = ("/api/fleet", "/api/alerts", "/api/incidents")
"""What a dashboard asks for once a bucket."""
INSTANCES = (1, 2, 4)
INSTANCE_MINUTES = 5
EXTRA_INSTANCE_BUDGET_PER_MIN = 20
"""An instance that only follows others' advances: one BEGIN per advance, plus book chunks."""
AUDIENCES = ((1, 0), (10, 0), (1, 10))
"""(polling viewers, open streams) on one instance: the first is the baseline of the others."""
IMPORT_RUNS = 7
FRAMEWORKS = ("fastapi", "numpy", "pydantic_settings", "httpx")
"""What the app cannot start without: the cold import is measured against these."""
COLD_RATIO_TARGET = 1.2
START = DEFAULT_EPOCH_S + 20 * 86_400 + 10 * 3600  # a weekday morning, on a bucket boundary
OUR_VARIABLES = {name.upper() for name in Settings.model_fields} | {
    "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_URL", "KV_REST_API_TOKEN",
}  # fmt: skip


def scrubbed_env() -> dict[str, str]:
    """The environment without our settings: the embedded defaults apply."""
    return {k: v for k, v in os.environ.items() if k.upper() not in OUR_VARIABLES}


# -- 1. latency under load -----------------------------------------------------------------


@dataclass
class Latency:
    route: str
    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def ms(self, q: float) -> float:
        return float(np.percentile(self.seconds, q)) * 1e3

    @property
    def per_second(self) -> float:
        return len(self.seconds) / self.elapsed_s


def serve(port: int, data: Path) -> None:
    """The server subprocess: the app on the embedded defaults, served by uvicorn."""
    import uvicorn

    # One client address at hundreds of requests a second: the rate limit must not answer.
    settings = Settings(
        _env_file=None, sqlite_path=str(data / "om.db"), rate_limit_api_per_minute=1_000_000
    )
    app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def load(base: str, route: str, path: Callable[[], str], clients: int, s: float) -> Latency:
    """``clients`` closed loops on ``path()`` for ``s`` seconds."""
    result = Latency(route)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for _ in range(3):  # warm: the first request of an instance imports and computes more
            await client.get(path())
        timer = MonotonicTimer()

        async def loop() -> None:
            while timer.elapsed_s() < s:
                started = MonotonicTimer()
                response = await client.get(path())
                result.seconds.append(started.elapsed_s())
                result.errors += response.status_code != 200

        await asyncio.gather(*(loop() for _ in range(clients)))
        result.elapsed_s = timer.elapsed_s()
    return result


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    timer = MonotonicTimer()
    while timer.elapsed_s() < timeout_s and process.poll() is None:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pause(0.1)
    raise RuntimeError(f"the app did not come up at {base}")


def measure_latency(seconds: float, clients: int) -> list[Latency]:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="openmanager-bench-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_api", "serve", str(port), str(data)],
        cwd=ROOT,
        env=scrubbed_env(),
    )
    base = f"http://127.0.0.1:{port}"
    wall = SystemClock()
    routes: dict[str, Callable[[], str]] = {
        "/api/health (floor)": lambda: "/api/health",
        "/api/fleet": lambda: "/api/fleet",
        "/api/servers/web-01/history 24 h": lambda: (
            f"/api/servers/web-01/history?metric=cpu_pct&from={wall.now() - 86_400:.0f}"
        ),
        "/api/metrics": lambda: "/api/metrics",
    }
    try:
        wait_until_up(base, server)
        return [asyncio.run(load(base, r, p, clients, seconds)) for r, p in routes.items()]
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


# -- 2. cold import ------------------------------------------------------------------------


def import_seconds(modules: tuple[str, ...]) -> float:
    """Seconds a fresh interpreter spends importing ``modules`` (its own start-up excluded)."""
    code = (
        "import time; t = time.perf_counter()\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=scrubbed_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure_imports(runs: int) -> tuple[float, float]:
    """Medians for ``api.index`` and for ``FRAMEWORKS``, as ``runs`` interleaved pairs."""
    index, frameworks = [], []
    for _ in range(runs):
        index.append(import_seconds(("api.index",)))
        frameworks.append(import_seconds(FRAMEWORKS))
    return statistics.median(index), statistics.median(frameworks)


FIRST_FLEET = """
import time; t = time.perf_counter()
import api.index
imported = time.perf_counter() - t
from fastapi.testclient import TestClient
response = TestClient(api.index.app).get("/api/fleet")
assert response.status_code == 200, response.status_code
print(imported, time.perf_counter() - t)
"""


def first_fleet_seconds(runs: int) -> tuple[float, float]:
    """Medians, in fresh processes on the embedded defaults: the import, and the import plus
    the first ``/api/fleet`` response."""
    imported, answered = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="openmanager-bench-") as data:
            out = subprocess.run(
                [sys.executable, "-c", FIRST_FLEET],
                cwd=ROOT,
                env=scrubbed_env() | {"SQLITE_PATH": str(Path(data) / "om.db")},
                capture_output=True,
                text=True,
                check=True,
            )
        i, a = (float(x) for x in out.stdout.split()[-2:])
        imported.append(i)
        answered.append(a)
    return statistics.median(imported), statistics.median(answered)


def report_cold_start() -> None:
    print(f"\n2. cold start in fresh interpreters, medians of {IMPORT_RUNS} interleaved pairs")
    index, frameworks = measure_imports(IMPORT_RUNS)
    print(f"{'import api.index (create_app included)':<48}{index * 1e3:>8.0f} ms")
    print(f"{'import ' + ', '.join(FRAMEWORKS):<48}{frameworks * 1e3:>8.0f} ms")
    print(f"{'ratio':<48}{index / frameworks:>9.2f}   target <= {COLD_RATIO_TARGET}")
    imported, answered = first_fleet_seconds(IMPORT_RUNS)
    print(f"{'fresh process: import api.index':<48}{imported * 1e3:>8.0f} ms")
    print(f"{'fresh process: import + first /api/fleet 200':<48}{answered * 1e3:>8.0f} ms")


# -- 3. cost of viewers --------------------------------------------------------------------


@dataclass
class Cdn:
    """A shared cache in front of the app: keeps a response for its ``s-maxage``."""

    client: TestClient
    clock: FixedClock
    entries: dict[str, tuple[float, int]] = field(default_factory=dict)
    invocations: int = 0
    hits: int = 0
    last_json: dict[str, dict] = field(default_factory=dict)
    """The body of the last response the app gave for each URL."""

    def get(self, url: str) -> int:
        now = self.clock.now()
        cached = self.entries.get(url)
        if cached is not None and cached[0] > now:
            self.hits += 1
            return cached[1]
        self.invocations += 1
        response = self.client.get(url)
        if response.headers.get("content-type", "").startswith("application/json"):
            self.last_json[url] = response.json()
        keep_s = shared_max_age(response.headers.get("cache-control", ""))
        if keep_s is not None:
            self.entries[url] = (now + keep_s, response.status_code)
        return response.status_code


def shared_max_age(cache_control: str) -> int | None:
    """Seconds a shared cache may keep a response, or ``None`` when it may not keep it."""
    directives = [d.strip() for d in cache_control.split(",")]
    if "public" not in directives:
        return None
    for directive in directives:
        name, _, value = directive.partition("=")
        if name == "s-maxage" and value.isdigit():
            return int(value)
    return None


@dataclass(frozen=True)
class Cost:
    servers: int
    viewers: int
    streams: int
    requests: int
    invocations: int
    commands: int
    round_trips: int
    by_command: dict[str, int]
    lags: list[int]
    idle_commands: int
    bytes_per_min: float
    minutes: int

    def per_minute(self, count: int) -> float:
        return per_minute(count, self.minutes)


def per_minute(count: float, minutes: float = FLEET_MINUTES) -> float:
    return count / minutes


def measure_cost(
    servers: int,
    viewers: int,
    streams: int,
    redis: RedisServer,
    upstash: UpstashServer,
    data: Path,
    minutes: int = FLEET_MINUTES,
) -> Cost:
    """``viewers`` dashboards polling ``POLLED`` once a bucket, spread over the bucket, and
    ``streams`` open ``/api/stream`` connections on the same instance stepping once a bucket
    as ``lib.http.live`` does; then as long with nobody watching."""
    redis.reset()
    redis.admin.config_resetstat()
    upstash.reset()
    clock = FixedClock(START)
    settings = Settings(
        _env_file=None,
        fleet_size=servers,
        upstash_redis_rest_url=upstash.url,
        upstash_redis_rest_token=upstash.token,
        sqlite_path=str(data / f"cost-{servers}-{viewers}-{streams}.db"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # starlette's, about httpx
        from fastapi.testclient import TestClient
    app = create_app(settings, clock=clock)
    cdn = Cdn(TestClient(app, base_url="https://bench"), clock)
    engine = app.state.om.engine
    bucket_s = settings.bucket_seconds
    requests = 0
    lags: list[int] = []
    buckets = minutes * 60 // bucket_s
    timing = live.StreamTiming()
    cursors = [live.start_cursor(engine, clock.now(), None, timing)[0] for _ in range(streams)]
    for bucket in range(buckets):
        for viewer in range(viewers):
            clock.t = START + (bucket + (viewer + 0.5) / viewers) * bucket_s
            for url in POLLED:
                status = cdn.get(url)
                if status != 200:
                    raise AssertionError(f"{url}: {status}")
                requests += 1
            fleet = cdn.last_json.get("/api/fleet")
            if fleet is not None and fleet["processed_through"] is not None:
                lags.append(fleet["bucket"] - fleet["processed_through"])
        for i, cursor in enumerate(cursors):
            clock.t = START + (bucket + (i + 0.5) / streams) * bucket_s
            _, cursors[i] = live.step(engine, clock.now(), cursor, timing.chunk_buckets)
    stats = upstash.stats
    watched, watched_bytes = stats.commands, stats.bytes_received + stats.bytes_sent
    calls = by_command(redis)
    clock.t = START + 2 * buckets * bucket_s  # nobody watches for as long again
    return Cost(
        servers,
        viewers,
        streams,
        requests,
        cdn.invocations,
        watched,
        stats.requests,
        calls,
        lags,
        upstash.stats.commands - watched,
        watched_bytes / minutes,
        minutes,
    )


def by_command(redis: RedisServer) -> dict[str, int]:
    """Calls per command name since the last reset, as Redis counts them (a script's own
    calls included)."""
    stats = redis.admin.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    calls.pop("config|resetstat", None)
    return dict(sorted(calls.items(), key=lambda kv: -kv[1]))


def measure_costs(fleets: tuple[int, ...], minutes: int) -> list[Cost]:
    root = Path(tempfile.mkdtemp(prefix="openmanager-bench-"))
    redis = RedisServer(find_redis_server(), root, free_port())
    redis.start()
    try:
        with UpstashServer(redis.url) as upstash:
            return [
                measure_cost(servers, viewers, streams, redis, upstash, root, minutes)
                for servers in fleets
                for viewers, streams in AUDIENCES
            ]
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)


def report_costs(fleets: tuple[int, ...] = FLEETS, minutes: int = FLEET_MINUTES) -> None:
    print(
        f"\n3. cost and lag, {minutes} fleet-minutes polling {', '.join(POLLED)} once a "
        "bucket, then as long unwatched"
    )
    print(f"{'servers':>7}{'viewers':>8}{'streams':>8}{'invocations/min':>17}"
          f"{'kv commands/min':>17}{'kv KB/min':>11}{'lag median':>12}{'lag max':>9}"
          f"{'unwatched':>11}")  # fmt: skip
    costs = measure_costs(fleets, minutes)
    for c in costs:
        print(
            f"{c.servers:>7}{c.viewers:>8}{c.streams:>8}{c.per_minute(c.invocations):>17.1f}"
            f"{c.per_minute(c.commands):>17.1f}{c.bytes_per_min / 1e3:>11.1f}"
            f"{statistics.median(c.lags):>12.0f}{max(c.lags):>9}{c.idle_commands:>11}"
        )
    for servers in fleets:
        one, ten, streamed = (c for c in costs if c.servers == servers)
        calls = ", ".join(f"{name} {one.per_minute(n):.1f}" for name, n in one.by_command.items())
        print(f"{servers} servers, one viewer, per minute as Redis counts them: {calls}")
        growth = ten.commands / one.commands
        print(
            f"{servers} servers, ten viewers / one: commands ×{growth:.2f}, invocations ×", end=""
        )
        print(f"{ten.invocations / one.invocations:.2f}")
        print(
            f"{servers} servers, one viewer and {streamed.streams} open streams / one viewer: "
            f"commands ×{streamed.commands / one.commands:.2f}"
        )
    print(f"\nmonthly KV commands (30 days), Upstash free tier {FREE_COMMANDS_PER_MONTH:,}")
    print(f"{'servers':>7}" + "".join(f"{f'{h} h/day':>14}" for h in WATCHED_HOURS))
    for servers in fleets:
        one = next(c for c in costs if c.servers == servers and c.viewers == 1)
        monthly = [one.per_minute(one.commands) * 60 * h * 30 for h in WATCHED_HOURS]
        print(f"{servers:>7}" + "".join(f"{m:>14,.0f}" for m in monthly))
    print(f"budgets: {KV_BUDGET_PER_MIN} commands per watched minute, lag <= "
          f"{LAG_BUDGET_BUCKETS} buckets, 0 commands unwatched")  # fmt: skip
    for c in costs:
        growth = c.commands / next(o for o in costs if o.servers == c.servers).commands
        assert math.isclose(growth, 1.0, abs_tol=0.05), f"commands grow with viewers: ×{growth:.2f}"
        assert c.per_minute(c.commands) <= KV_BUDGET_PER_MIN, f"{c.servers} servers: over budget"
        assert max(c.lags) <= LAG_BUDGET_BUCKETS, f"{c.servers} servers: lag {max(c.lags)}"
        assert c.idle_commands == 0, f"{c.idle_commands} commands with nobody watching"


def measure_instances(count: int, redis: RedisServer, upstash: UpstashServer, data: Path) -> float:
    """KV commands a minute with ``count`` warm instances sharing the KV, one open stream
    each: what Vercel costs when streams do not share an instance."""
    redis.reset()
    upstash.reset()
    clock = FixedClock(START)
    settings = Settings(
        _env_file=None,
        fleet_size=FLEETS[0],
        upstash_redis_rest_url=upstash.url,
        upstash_redis_rest_token=upstash.token,
        sqlite_path=str(data / f"instances-{count}.db"),
    )
    engines = [create_app(settings, clock=clock).state.om.engine for _ in range(count)]
    timing = live.StreamTiming()
    cursors = [live.start_cursor(e, clock.now(), None, timing)[0] for e in engines]
    buckets = INSTANCE_MINUTES * 60 // settings.bucket_seconds
    for bucket in range(buckets):
        for i, engine in enumerate(engines):
            clock.t = START + (bucket + (i + 0.5) / count) * settings.bucket_seconds
            _, cursors[i] = live.step(engine, clock.now(), cursors[i], timing.chunk_buckets)
    return upstash.stats.commands / INSTANCE_MINUTES


def report_instances() -> None:
    print(
        f"\n4. warm instances sharing the KV, one open stream each, {FLEETS[0]} servers, "
        f"{INSTANCE_MINUTES} fleet-minutes"
    )
    root = Path(tempfile.mkdtemp(prefix="openmanager-bench-"))
    redis = RedisServer(find_redis_server(), root, free_port())
    redis.start()
    try:
        with UpstashServer(redis.url) as upstash:
            rates = {n: measure_instances(n, redis, upstash, root) for n in INSTANCES}
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'instances':>9}{'kv commands/min':>17}{'per extra instance':>20}")
    one = rates[INSTANCES[0]]
    for n, rate in rates.items():
        extra = f"{(rate - one) / (n - 1):.1f}" if n > 1 else "-"
        print(f"{n:>9}{rate:>17.1f}{extra:>20}")
    worst = max((rate - one) / (n - 1) for n, rate in rates.items() if n > 1)
    assert worst <= EXTRA_INSTANCE_BUDGET_PER_MIN, f"an extra instance costs {worst:.1f}/min"


# -- the report ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load per route")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--only", choices=("cold", "cost"), help="run one table only")
    parser.add_argument("--fleets", default=",".join(map(str, FLEETS)), help="cost: sizes")
    parser.add_argument("--minutes", type=int, default=FLEET_MINUTES, help="cost: fleet-minutes")
    args = parser.parse_args(argv)
    only = f" --only {args.only}" if args.only else ""
    only += f" --fleets {args.fleets} --minutes {args.minutes}"
    print(f"command: {COMMAND} --seconds {args.seconds:g} --clients {args.clients}{only}")
    print(f"commit {commit()}, python {platform.python_version()}, cpus {os.cpu_count()}")
    if args.only == "cold":
        report_cold_start()
        return
    fleets = tuple(int(n) for n in args.fleets.split(","))
    if args.only == "cost":
        report_costs(fleets, args.minutes)
        report_instances()
        return

    # Closed loops: under N clients latency is mostly queueing (N / throughput on 2 cores, the
    # load generator included), so one client shows what a request itself costs.
    for clients, seconds in ((1, min(args.seconds, 10.0)), (args.clients, args.seconds)):
        print(f"\n1. latency, {clients} concurrent client(s), {seconds:g} s per route")
        print(
            f"{'route':<36}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>9}{'errors':>8}{'p95/floor':>11}"
        )
        results = measure_latency(seconds, clients)
        floor = results[0].ms(95)
        for r in results:
            print(
                f"{r.route:<36}{r.ms(50):>6.1f} ms{r.ms(95):>6.1f} ms{r.ms(99):>6.1f} ms"
                f"{r.per_second:>9.0f}{r.errors:>8}{r.ms(95) / floor:>10.1f}×"
            )
    print("target: /api/fleet p95 <= 25 ms")

    report_cold_start()

    report_costs(fleets, args.minutes)
    report_instances()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
