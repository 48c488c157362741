"""Detection quality on the simulated fleet, measured against the simulator's ground truth.

Run: ``.venv/bin/python -m tests.bench.bench_detect [--days 7] [--seed N]``

The engine runs over ``--days`` of fleet time on an accelerated clock (embedded KV, a SQLite
file), three times in one process: with the product's adaptive detector, with static
thresholds (warning 80 / critical 90 on percentages) and with a plain mean ± 2σ window
detector — the same alert lifecycle and grouping behind each. Automatic recovery is off, so
every detector faces the same failures for as long as they act: with it on, a fix decided
from the engine's trend watch (a disk filling, hours before it alerts) ends a failure before
any detector could alert on it, and a failure's detection would depend on another part of
the product. Then, per failure type and overall:

- an incident is *detected* when an alert fires on one of its affected servers (targets and
  cascade) while it acts (precursor to settling);
- *precision*: alerts that fired on a server some incident affected at that moment, over all
  alerts; *recall*: detected incidents over incidents;
- *false alerts per day* on healthy servers, and per server-week;
- detection *delay*: first alert's bucket minus the incident's start bucket (median, p95),
  in buckets and seconds (negative: caught in the precursor).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.clock import FixedClock
from lib.config import Settings
from lib.engine import Engine, EngineLimits
from lib.engine.detection import ADAPTIVE, F64, static_scorer
from lib.sim import FAILURE_TYPES, Impact, impacts_between
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from tests.bench.provenance import commit

DAY_BUCKETS = 28_800
STEP = 400
# Monday 2026-01-19 00:00 UTC: whole weeks, weekends included.
START_BUCKET = 18 * 86_400 // 3
WINDOW = 100  # mean ± 2σ over the last 5 minutes


def mean_2sigma_scorer(flat: F64, timestamps: F64, n_servers: int) -> tuple[F64, ...]:
    """mean ± 2σ of the previous ``WINDOW`` samples, high side: score 0.5 at 2σ, 0.8 at 3.2σ."""
    x = flat - flat[:1]
    s1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    s2 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
    i = np.arange(x.shape[0])
    lo = np.maximum(i - WINDOW, 0)
    n = (i - lo)[:, None].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s1[i] - s1[lo]) / n
        sd = np.sqrt(np.maximum((s2[i] - s2[lo]) / n - mean * mean, 0.0))
        z = (x - mean) / sd
    z = np.where((n >= 10) & (sd > 0), z, 0.0)
    score = np.clip(z / 4.0, 0.0, 1.0)
    base = mean + flat[:1]
    return score, base, base + 2 * sd, base + 3.2 * sd


SCORERS = {"adaptive": ADAPTIVE, "static 80/90": static_scorer, "mean±2σ": mean_2sigma_scorer}


@dataclass
class Outcome:
    alerts: list[tuple[int, int]]  # (server, fired bucket)
    impacts: tuple[Impact, ...]
    seconds: float


def run(scorer_name: str, days: float, seed: int, folder: Path) -> Outcome:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        seed=seed,
        sqlite_path=str(folder / f"{id(folder)}.db"),
        auto_recovery=False,
    )
    repo = SqliteRepository(str(folder / f"{scorer_name.replace('/', '_')}.db"))
    clock = FixedClock(settings.epoch_s + (START_BUCKET - 1) * settings.bucket_seconds + 0.5)
    engine = Engine(
        settings,
        MemoryKv(),
        lambda: repo,
        clock,
        scorer=SCORERS[scorer_name],
        limits=EngineLimits(max_detail_buckets=STEP),
    )
    started = time.perf_counter()
    engine.advance(clock.now())
    end = START_BUCKET + int(days * DAY_BUCKETS)
    for _ in range(START_BUCKET, end, STEP):
        clock.advance(STEP * settings.bucket_seconds)
        engine.advance(clock.now())
    seconds = time.perf_counter() - started
    fleet = engine.fleet
    alerts = []
    for a in repo.list_alerts(limit=100_000):
        bucket = engine.buckets.bucket_of(a.fired_at.timestamp())
        alerts.append((fleet.index_of(a.server_id), bucket))
    overrides = engine.overrides(clock.now())
    impacts = impacts_between(fleet, START_BUCKET, end, overrides)
    repo.close()
    return Outcome(alerts, impacts, seconds)


@dataclass
class Scores:
    per_type: dict[str, tuple[int, int, list[int]]]  # type → (incidents, detected, delays)
    true_alerts: int
    false_alerts: int
    false_per_day: float
    false_per_server_week: float


def evaluate(outcome: Outcome, days: float, n_servers: int, margin: int) -> Scores:
    """Match alerts to incidents. Incidents starting in the first ``margin`` buckets (the
    detector's warm-up) or too close to the end to be seen are left out of recall."""
    end = START_BUCKET + int(days * DAY_BUCKETS)
    first_alert: dict[str, int] = {}
    true = false = 0
    for server, bucket in outcome.alerts:
        hits = [
            imp
            for imp in outcome.impacts
            if server in imp.servers and imp.first_bucket <= bucket < imp.last_bucket
        ]
        if hits:
            true += 1
            for imp in hits:
                key = imp.incident.id
                first_alert[key] = min(first_alert.get(key, bucket), bucket)
        else:
            false += 1
    per_type: dict[str, tuple[int, int, list[int]]] = defaultdict(lambda: (0, 0, []))
    for imp in outcome.impacts:
        start = imp.incident.start_bucket
        if start < START_BUCKET + margin or start > end - 100:
            continue
        n, d, delays = per_type[imp.incident.type]
        fired = first_alert.get(imp.incident.id)
        if fired is not None:
            delays.append(fired - start)
        per_type[imp.incident.type] = (n + 1, d + (fired is not None), delays)
    return Scores(dict(per_type), true, false, false / days, false / (n_servers * days / 7))


def _row(name: str, n: int, d: int, delays: list[int], bucket_s: int) -> str:
    recall = d / n if n else float("nan")
    if delays:
        med, p95 = float(np.median(delays)), float(np.percentile(delays, 95))
        delay = f"{med:6.1f} {p95:6.1f} ({med * bucket_s:.0f} s / {p95 * bucket_s:.0f} s)"
    else:
        delay = "     -      -"
    return f"  {name:<24} {n:5d} {d:5d} {recall:7.3f}   {delay}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=Settings.model_fields["seed"].default)
    parser.add_argument("--only", choices=sorted(SCORERS), default=None)
    args = parser.parse_args()
    names = [args.only] if args.only else list(SCORERS)
    bucket_s = 3
    command = [Path(sys.executable).name, "-m", "tests.bench.bench_detect", *sys.argv[1:]]
    print(f"command: {' '.join(command)}")
    print(
        f"commit {commit()}; python {platform.python_version()}; numpy {np.__version__}; "
        f"{args.days} days, seed {args.seed}, 30 servers, {bucket_s} s buckets"
    )
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            outcome = run(name, args.days, args.seed, Path(tmp))
            scores = evaluate(outcome, args.days, 30, margin=1_200)
            total_n = sum(v[0] for v in scores.per_type.values())
            total_d = sum(v[1] for v in scores.per_type.values())
            delays = [x for v in scores.per_type.values() for x in v[2]]
            alerts = scores.true_alerts + scores.false_alerts
            precision = scores.true_alerts / alerts if alerts else float("nan")
            print(f"\n== {name}  (engine run {outcome.seconds:.0f} s)")
            print(f"  {'type':<24} {'incid':>5} {'found':>5} {'recall':>7}   median    p95  delay")
            for t in FAILURE_TYPES:
                if t in scores.per_type:
                    print(_row(t, *scores.per_type[t], bucket_s))
            print(_row("ALL", total_n, total_d, delays, bucket_s))
            print(
                f"  alerts {alerts}: precision {precision:.3f}; false {scores.false_alerts} "
                f"= {scores.false_per_day:.1f}/day = {scores.false_per_server_week:.2f}"
                " per server-week"
            )
            summary.append((name, precision, total_d / total_n if total_n else 0.0, delays, scores))
    print("\n== side by side (targets: precision ≥ 0.98, recall ≥ 0.98, median delay ≤ 2 buckets,")
    print("   ≤ 1 false alert per server-week)")
    print(
        f"  {'detector':<14} {'precision':>9} {'recall':>7} {'median':>7} {'p95':>6}"
        f" {'false/srv-wk':>12}"
    )
    for name, precision, recall, delays, scores in summary:
        med = float(np.median(delays)) if delays else float("nan")
        p95 = float(np.percentile(delays, 95)) if delays else float("nan")
        print(
            f"  {name:<14} {precision:9.3f} {recall:7.3f} {med:7.1f} {p95:6.1f}"
            f" {scores.false_per_server_week:12.2f}"
        )


if __name__ == "__main__":
    main()
