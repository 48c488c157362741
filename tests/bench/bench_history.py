"""Benchmark of a day of one metric with its bands: chunks side by side against chunk by chunk.

Run it with::

    .venv/bin/python -m tests.bench.bench_history

The baseline scores the anchored chunks one after another, each on the server's twelve series
(what ``detect`` does, restricted to one server); the candidate is ``metric_history``, which
scores the chunks of one metric side by side. Both give the same bands (checked first); runs
are interleaved. It then times the routes through the ASGI app in process (one client, no
network): ``GET /api/servers/{id}/history`` for 24 h and ``GET /api/fleet``. Target: 24 h of
one metric well under a second at p95; only the ratio is asserted (``test_bench_history``).
"""

from __future__ import annotations

import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lib.clock import FixedClock, MonotonicTimer
from lib.config import DEFAULT_EPOCH_S
from lib.detect import score_window
from lib.engine.detection import ANCHOR_BUCKETS, WARMUP_BUCKETS, anchor_of, fleet_configs
from lib.engine.history import metric_history
from lib.http.app import create_app
from lib.sim import METRIC_INDEX, METRICS, Fleet, Overrides, build_fleet, window
from lib.store.memory_kv import MemoryKv
from tests.bench.provenance import commit
from tests.integration.http.conftest import https_client, make_settings

COMMAND = ".venv/bin/python -m tests.bench.bench_history"
SEED = 20_251_123
DAY = 28_800
MIN_RATIO = 5.0


def chunk_by_chunk(
    fleet: Fleet, overrides: Overrides, server: int, metric: int, b0: int, b1: int
) -> np.ndarray:
    """Warning bands of one series, each anchored chunk scored on its own (the baseline)."""
    parts = []
    start = b0
    while start < b1:
        anchor = anchor_of(start)
        stop = min(b1, anchor + ANCHOR_BUCKETS)
        w0 = anchor - WARMUP_BUCKETS
        values = window(fleet, w0, stop, overrides, servers=[server])[:, 0].astype(np.float64)
        stamps = fleet.epoch_s + np.arange(w0, stop, dtype=np.float64) * fleet.bucket_seconds
        scored = score_window(values, stamps, configs=fleet_configs(1))
        parts.append(scored.warn_upper[start - w0 :, metric])
        start = stop
    return np.concatenate(parts)


def _seconds(run: Callable[[], object]) -> float:
    timer = MonotonicTimer()
    run()
    return timer.elapsed_s()


def compare(repeats: int, buckets: int) -> tuple[float, float]:
    """Median seconds of the candidate and of the baseline over ``buckets`` of one metric."""
    fleet = build_fleet(SEED, 30, epoch_s=DEFAULT_EPOCH_S)
    overrides = Overrides()
    server, metric = fleet.index_of("db-01"), METRIC_INDEX["cpu_pct"]
    b1 = 20 * DAY + 12_345
    b0 = b1 - buckets
    want = chunk_by_chunk(fleet, overrides, server, metric, b0, b1)
    got = metric_history(fleet, overrides, server, metric, b0, b1, 1).warn_upper
    if not np.allclose(got, want, rtol=1e-9, equal_nan=True):
        raise AssertionError("metric_history and the chunk-by-chunk baseline disagree")
    fast, slow = [], []
    for _ in range(repeats):
        fast.append(_seconds(lambda: metric_history(fleet, overrides, server, metric, b0, b1, 58)))
        slow.append(_seconds(lambda: chunk_by_chunk(fleet, overrides, server, metric, b0, b1)))
    return statistics.median(fast), statistics.median(slow)


def route_latencies(repeats: int) -> dict[str, tuple[float, float]]:
    """(p50, p95) seconds of each route through the app, after one warm-up call."""
    clock = FixedClock(DEFAULT_EPOCH_S + 20 * 86_400 + 0.5)
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(make_settings(Path(directory)), clock=clock, kv=MemoryKv())
        client = https_client(app)
        urls = {
            "GET /api/fleet": "/api/fleet",
            "GET /api/servers/db-01/history 24 h": "/api/servers/db-01/history"
            f"?metric=cpu_pct&from={clock.now() - 86_400}",
        }
        out = {}
        for name, url in urls.items():
            client.get(url)
            times = sorted(_seconds(lambda u=url: client.get(u)) for _ in range(repeats))
            out[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
        return out


def main() -> None:
    print(f"command: {COMMAND}")
    print(f"commit {commit()}, python {platform.python_version()}, numpy {np.__version__}")
    fast, slow = compare(repeats=7, buckets=DAY)
    print(f"{'case':<40}{'side by side':>14}{'chunk by chunk':>16}{'ratio':>8}")
    print(f"{'24 h of cpu_pct, bands (1 server)':<40}{fast * 1e3:>11.1f} ms"
          f"{slow * 1e3:>13.1f} ms{slow / fast:>7.1f}×")  # fmt: skip
    print(f"(series per chunk: baseline {len(METRICS)}, candidate 1)")
    print(f"{'route (in process, 1 client)':<40}{'p50':>10}{'p95':>10}")
    for name, (p50, p95) in route_latencies(repeats=50).items():
        print(f"{name:<40}{p50 * 1e3:>7.1f} ms{p95 * 1e3:>7.1f} ms")
    print("target: 24 h of one metric well under 1 s at p95")


def test_bench_history() -> None:
    """A short run of the comparison; asserts the ratio only, never a time."""
    fast, slow = compare(repeats=3, buckets=DAY // 4)
    assert slow / fast >= MIN_RATIO, (fast, slow)


if __name__ == "__main__":
    main()
