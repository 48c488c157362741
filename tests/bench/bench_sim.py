"""Benchmark of the fleet simulator: vectorised ``window`` against a per-server Python loop.

Run it with::

    .venv/bin/python -m tests.bench.bench_sim        # or: make bench

It prints, in one run, the median time of ``window`` for 24 hours of a 30-server fleet
(28,800 buckets of 3 s) and for one bucket of a 10,000-server fleet, next to the scalar
reference loop (``tests/support/sim_reference.py``) producing the same numbers. The loop is
far too slow to run in full: it is timed on a subset (named in the table) and scaled
linearly to the full size, which is fair because its cost is exactly proportional to
servers × buckets. Baseline and candidate runs are interleaved. Targets: 24 h × 30 servers
under 100 ms, 10,000 servers × 1 bucket under 50 ms, vectorised at least 50× the loop; only
the ratio is asserted (``test_bench_sim`` runs a shorter version under pytest).
"""

from __future__ import annotations

import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lib.clock import MonotonicTimer
from lib.config import DEFAULT_EPOCH_S
from lib.sim import Fleet, Overrides, build_fleet, window
from tests.bench.provenance import commit
from tests.support.sim_reference import reference_window

COMMAND = ".venv/bin/python -m tests.bench.bench_sim"
SEED = 20_251_123
DAY = 28_800
MIN_RATIO = 50.0


@dataclass(frozen=True)
class Case:
    """One comparison: the full vectorised call and a loop on a subset of the same numbers."""

    name: str
    fleet: Fleet
    b0: int
    b1: int
    loop_servers: list[int]
    loop_b1: int  # the loop covers buckets b0 .. loop_b1 - 1

    @property
    def scale(self) -> float:
        full = self.fleet.size * (self.b1 - self.b0)
        return full / (len(self.loop_servers) * (self.loop_b1 - self.b0))

    @property
    def subset(self) -> str:
        return f"{len(self.loop_servers)} servers × {self.loop_b1 - self.b0} buckets"


def _seconds(run: Callable[[], object]) -> float:
    timer = MonotonicTimer()
    run()
    return timer.elapsed_s()


def measure(case: Case, overrides: Overrides, repeats: int) -> tuple[float, float]:
    """Median seconds of the vectorised call and of the loop scaled to the full size."""
    fast: list[float] = []
    slow: list[float] = []
    expected, _ = reference_window(case.fleet, case.b0, case.loop_b1, overrides, case.loop_servers)
    got = window(case.fleet, case.b0, case.b1, overrides)[: case.loop_b1 - case.b0]
    if not np.array_equal(got[:, case.loop_servers], np.array(expected, dtype=np.float32)):
        raise AssertionError(f"{case.name}: the loop and window() disagree")
    for _ in range(repeats):
        fast.append(_seconds(lambda: window(case.fleet, case.b0, case.b1, overrides)))
        slow.append(
            _seconds(
                lambda: reference_window(
                    case.fleet, case.b0, case.loop_b1, overrides, case.loop_servers
                )
            )
            * case.scale
        )
    return statistics.median(fast), statistics.median(slow)


def cases(loop_servers_24h: int, loop_buckets_24h: int, loop_servers_10k: int) -> list[Case]:
    small = build_fleet(SEED, 30, epoch_s=DEFAULT_EPOCH_S)
    large = build_fleet(SEED, 10_000, epoch_s=DEFAULT_EPOCH_S)
    bucket = 5 * DAY + 12_345
    # Loop subsets spread over the roles (servers are ordered by role).
    spread_small = list(range(0, 30, 30 // loop_servers_24h))[:loop_servers_24h]
    spread_large = list(range(0, 10_000, 10_000 // loop_servers_10k))[:loop_servers_10k]
    return [
        Case("window 24 h × 30 servers", small, 0, DAY, spread_small, loop_buckets_24h),
        Case(
            "window 1 bucket × 10,000 servers", large, bucket, bucket + 1, spread_large, bucket + 1
        ),
    ]


def main() -> None:
    overrides = Overrides()  # the default seeded schedule: about 2 incidents an hour
    print(f"command: {COMMAND}")
    print(f"commit {commit()}, python {platform.python_version()}, numpy {np.__version__}")
    print(f"{'case':<34}{'window (median)':>17}{'loop (scaled)':>16}{'ratio':>9}  loop subset")
    for case in cases(loop_servers_24h=3, loop_buckets_24h=400, loop_servers_10k=200):
        fast, slow = measure(case, overrides, repeats=9)
        print(
            f"{case.name:<34}{fast * 1e3:>14.1f} ms{slow * 1e3:>13.0f} ms{slow / fast:>8.0f}×"
            f"  {case.subset}, ×{case.scale:.0f}"
        )
    print("targets: 24 h × 30 < 100 ms; 10,000 × 1 bucket < 50 ms; ratio >= 50×")


def test_bench_sim() -> None:
    """A short run of the same comparison; asserts the ratio only, never a time."""
    for case in cases(loop_servers_24h=1, loop_buckets_24h=60, loop_servers_10k=20):
        fast, slow = measure(case, Overrides(), repeats=3)
        assert slow / fast >= MIN_RATIO, (case.name, fast, slow)


if __name__ == "__main__":
    main()
