"""Diagnosis quality end to end: the engine's incidents against the simulator's answer key.

Run: ``.venv/bin/python -m tests.bench.bench_diagnose [--days 1] [--seeds 1001,...]
[--in-sample]``

The engine runs (embedded KV, a SQLite file, default settings: spontaneous failures at the
default rate, benign events, default ``recovery_success_rate``) one fleet-day per held-out
seed (seeds never used while tuning diagnosis), then its incidents are matched to the
simulator's truth events (``lib.sim.truth_events``, read here and only here):

- an incident *matches* a failure when one of its servers is among the servers the failure
  reached and it was detected while the failure acted (precursor to settling); otherwise it
  is a *false incident* (counted separately when a benign event was acting on its servers);
- *precision*: matched incidents over incidents; *recall*: failures with a matching incident
  over failures (warm-up and the last minutes left out), per type and magnitude;
- *delay* of sudden failures: detection bucket minus start bucket (median, p95);
- gradual failures *warned before critical*: detected before the key metric reached its
  critical level (``critical_bucket``), with the median lead;
- *type top-1*: the first matching incident's diagnosed type is the failure's, with the
  confusion matrix; *root cause*: its root server is one of the failure's targets;
- *auto-recovery*: detected failures whose incident ended ``recovered`` by the engine, with
  MTTR percentiles, from the engine's observed onset and from the true start;
- *burst*: the twelve types injected at once, spread over the regions, on a quiet fleet, once
  per burst seed (``BURST_SEEDS``): incidents opened and types right, and how many bursts meet
  the target.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lib.clock import FixedClock
from lib.config import Settings
from lib.diagnose import UNKNOWN
from lib.engine import Engine, EngineLimits
from lib.engine.operator import inject
from lib.sim import FAILURE_TYPES, Fleet, TruthEvent, truth_events
from lib.store.db import IncidentRecord
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from tests.bench.provenance import commit

DAY_BUCKETS = 28_800
STEP = 400
START_BUCKET = 18 * 86_400 // 3  # Monday 2026-01-19 00:00 UTC
WARMUP = 1_200  # the detector learns the fleet for an hour
TAIL = 100
HELD_OUT = (1001, 1002, 1003, 1004, 1005, 1006, 1007)
"""Seeds never looked at while tuning diagnosis."""
IN_SAMPLE = (Settings.model_fields["seed"].default, 42)
"""Seeds used while building and tuning diagnosis (the default one and 42)."""
BURST_SEEDS = (2001, 2002, 2003, 2004, 2005, 2006, 2007)
"""Seeds of the bursts, never looked at while building what the burst needed (the bursts of
1001-1007 were read one by one then)."""
BURST_MINUTES = 60
"""How long the burst is watched: a fast memory leak shows within it, a disk fill begins to."""
SUDDEN = ("sudden",)
GRADUAL = ("gradual",)


@dataclass
class Run:
    seed: int
    incidents: list[IncidentRecord]
    events: tuple[TruthEvent, ...]
    ids: tuple[str, ...]
    end: int
    seconds: float


@dataclass
class Tally:
    incidents: int = 0
    matched: int = 0
    false_benign: int = 0
    false_other: int = 0
    per_type: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    delays_sudden: list[int] = field(default_factory=list)
    leads: list[int] = field(default_factory=list)
    gradual: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    root_right: int = 0
    recovered: int = 0
    mttr_observed: list[float] = field(default_factory=list)
    mttr_true: list[float] = field(default_factory=list)
    days: float = 0.0


def _engine(
    seed: int, folder: Path, **settings: object
) -> tuple[Engine, FixedClock, SqliteRepository]:
    conf = Settings(_env_file=None, seed=seed, **settings)  # type: ignore[arg-type]
    repo = SqliteRepository(str(folder / f"s{seed}-{len(settings)}.db"))
    clock = FixedClock(conf.epoch_s + (START_BUCKET - 1) * conf.bucket_seconds + 0.5)
    engine = Engine(
        conf, MemoryKv(), lambda: repo, clock, limits=EngineLimits(max_detail_buckets=STEP)
    )
    return engine, clock, repo


def run_day(seed: int, days: float, folder: Path) -> Run:
    engine, clock, repo = _engine(seed, folder)
    started = time.perf_counter()
    engine.advance(clock.now())
    end = START_BUCKET + int(days * DAY_BUCKETS)
    for _ in range(START_BUCKET, end, STEP):
        clock.advance(STEP * 3)
        engine.advance(clock.now())
    seconds = time.perf_counter() - started
    incidents = repo.list_incidents(limit=100_000)
    events = truth_events(engine.fleet, START_BUCKET, end, engine.overrides(clock.now()))
    repo.close()
    return Run(seed, incidents, events, engine.fleet.ids, end, seconds)


def _bucket(ts: float) -> int:
    return int(ts // 3) - Settings.model_fields["epoch_s"].default // 3


def _match(incident: IncidentRecord, events: tuple[TruthEvent, ...], ids: tuple[str, ...]):
    """The failure (else the benign event) an incident lies behind, by servers and time."""
    servers = {ids.index(s) for s in incident.servers}
    detected = _bucket(incident.detected_at.timestamp()) if incident.detected_at else 0
    acting = [
        e
        for e in events
        if servers & set(e.affected) and e.precursor_bucket - 2 <= detected < e.last_bucket
    ]
    failures = [e for e in acting if not e.benign]
    root = ids.index(incident.root_server) if incident.root_server else -1
    if failures:
        return min(failures, key=lambda e: (root not in e.targets, e.start_bucket))
    return next(iter(acting), None)


def score(run: Run, tally: Tally) -> None:
    first: dict[str, IncidentRecord] = {}
    for incident in sorted(run.incidents, key=lambda i: i.detected_at or i.started_at):
        tally.incidents += 1
        event = _match(incident, run.events, run.ids)
        if event is None or event.benign:
            if event is None:
                tally.false_other += 1
            else:
                tally.false_benign += 1
            continue
        tally.matched += 1
        first.setdefault(event.id, incident)
    for e in run.events:
        if e.benign or e.start_bucket < START_BUCKET + WARMUP or e.start_bucket > run.end - TAIL:
            continue
        found = first.get(e.id)
        tally.per_type[(e.type, e.magnitude)].append(found is not None)
        if found is None:
            continue
        detected = _bucket(found.detected_at.timestamp())  # type: ignore[union-attr]
        if e.shape in SUDDEN:
            tally.delays_sudden.append(detected - e.start_bucket)
        if e.shape in GRADUAL:
            tally.gradual += 1
            if detected < e.critical_bucket:
                tally.leads.append(e.critical_bucket - detected)
        tally.confusion[(e.type, found.type)] += 1
        tally.root_right += run.ids.index(found.root_server or "") in e.targets
        if found.status == "recovered" and found.recovered_at is not None:
            tally.recovered += 1
            tally.mttr_observed.append((found.recovered_at - found.started_at).total_seconds())
            recovered = _bucket(found.recovered_at.timestamp())
            tally.mttr_true.append(3.0 * (recovered - e.start_bucket))


def spread(fleet: Fleet) -> list[tuple[str, int]]:
    """One server per failure type, type ``k`` in region ``k`` modulo the regions (the next
    region with a free server of a fitting role otherwise): the burst's targets."""
    used: set[int] = set()
    out = []
    for k, (name, failure) in enumerate(FAILURE_TYPES.items()):
        region = fleet.region_order[k % len(fleet.region_order)]
        for r in [region, *fleet.region_order]:
            free = [int(s) for s in fleet.servers_in_region(failure.roles, r) if int(s) not in used]
            if free:
                used.add(free[0])
                out.append((name, free[0]))
                break
    return out


def burst(seed: int, folder: Path) -> tuple[int, int, int, list[tuple[str, str]]]:
    """Twelve failures at once, one per type, spread over the regions: (injected, incidents,
    types right, (true, diagnosed) pairs)."""
    engine, clock, repo = _engine(seed, folder, failures_enabled=False, recovery_success_rate=0.0)
    engine.advance(clock.now())
    for _ in range(20):
        clock.advance(60)
        engine.advance(clock.now())
    fleet = engine.fleet
    injected = [
        inject(engine, clock.now(), name, [fleet.ids[server]], 6 * 3600, "severe")
        for name, server in spread(fleet)
    ]
    for _ in range(BURST_MINUTES):
        clock.advance(60)
        engine.advance(clock.now())
    incidents = repo.list_incidents(limit=1000)
    events = truth_events(
        fleet, START_BUCKET, engine.buckets.bucket_of(clock.now()), engine.overrides(clock.now())
    )
    pairs = []
    for i in incidents:
        e = _match(i, events, fleet.ids)
        pairs.append((e.type if e else "-", i.type))
    right = len({t for t, d in pairs if t == d})
    repo.close()
    missed = sorted({i.type for i in injected} - {t for t, _ in pairs})
    return len(injected), len(incidents), right, pairs + [(t, "(none)") for t in missed]


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(label: str, tally: Tally) -> None:
    print(f"\n== {label}: {tally.days:g} fleet-days")
    precision = tally.matched / tally.incidents if tally.incidents else float("nan")
    print(
        f"  incidents {tally.incidents}: matched {tally.matched}, false {tally.false_benign} "
        f"during benign events + {tally.false_other} on healthy servers"
    )
    print(
        f"  precision {precision:.3f} (target ≥ 0.95); false incidents per fleet-day "
        f"{(tally.false_benign + tally.false_other) / tally.days:.2f} (target ≤ 0.5)"
    )
    print(f"  {'type':<24} {'mild':>11} {'moderate':>11} {'severe':>11}   recall")
    by_mag: dict[str, list[int]] = defaultdict(list)
    for t in FAILURE_TYPES:
        cells = []
        for m in ("mild", "moderate", "severe"):
            hits = tally.per_type.get((t, m), [])
            by_mag[m] += hits
            cells.append(f"{sum(hits):>4}/{len(hits):<4}" if hits else f"{'-':>9}")
        print(f"  {t:<24} " + "  ".join(cells))
    for m in ("mild", "moderate", "severe"):
        hits = by_mag[m]
        rate = sum(hits) / len(hits) if hits else float("nan")
        target = "≥ 0.80" if m == "mild" else "≥ 0.95"
        print(f"  recall {m:<9} {rate:.3f} ({sum(hits)}/{len(hits)}; target {target})")
    d = tally.delays_sudden
    print(
        f"  sudden failures: median delay {_pct(d, 50):.1f} buckets, p95 {_pct(d, 95):.1f} "
        f"(target median ≤ 2)"
    )
    warned = len(tally.leads) / tally.gradual if tally.gradual else float("nan")
    print(
        f"  gradual failures warned before critical: {warned:.3f} ({len(tally.leads)}/"
        f"{tally.gradual}; target ≥ 0.90), median lead {_pct(tally.leads, 50) * 3 / 60:.1f} min"
    )
    detected = sum(tally.confusion.values())
    top1 = sum(n for (t, d), n in tally.confusion.items() if t == d)
    rate = (lambda k: k / detected) if detected else (lambda k: float("nan"))
    print(
        f"  type top-1 {rate(top1):.3f} ({top1}/{detected}; target ≥ 0.90); "
        f"root cause {rate(tally.root_right):.3f} (target ≥ 0.95)"
    )
    print(
        f"  auto-recovered {rate(tally.recovered):.3f} "
        f"({tally.recovered}/{detected}; target ≥ 0.89); MTTR from observed onset p50 "
        f"{_pct(tally.mttr_observed, 50):.0f} s p90 {_pct(tally.mttr_observed, 90):.0f} s; "
        f"from true start p50 {_pct(tally.mttr_true, 50):.0f} s p90 "
        f"{_pct(tally.mttr_true, 90):.0f} s"
    )
    names = [*FAILURE_TYPES, UNKNOWN]
    short = [n[:6] for n in names]
    print("  confusion (rows: true type, columns: diagnosed)")
    print("  " + " " * 24 + " ".join(f"{s:>6}" for s in short))
    for t in FAILURE_TYPES:
        row = [tally.confusion.get((t, d), 0) for d in names]
        if sum(row):
            print(f"  {t:<24}" + " ".join(f"{n:>6}" for n in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0, help="fleet-days per seed")
    parser.add_argument("--seeds", default=",".join(map(str, HELD_OUT)))
    parser.add_argument("--in-sample", action="store_true", help="also run the tuning seeds")
    args = parser.parse_args()
    held_out = tuple(int(s) for s in args.seeds.split(","))
    command = [Path(sys.executable).name, "-m", "tests.bench.bench_diagnose", *sys.argv[1:]]
    print(f"command: {' '.join(command)}")
    print(
        f"commit {commit()}; python {platform.python_version()}; numpy {np.__version__}; "
        f"{args.days} fleet-day(s) per seed, 30 servers, 3 s buckets"
    )
    print(f"held-out seeds (never used for tuning): {', '.join(map(str, held_out))}")
    groups = [("held-out", held_out)]
    if args.in_sample:
        print(f"in-sample seeds (used for tuning): {', '.join(map(str, IN_SAMPLE))}")
        groups.append(("in-sample", IN_SAMPLE))
    with tempfile.TemporaryDirectory() as tmp:
        for label, seeds in groups:
            tally = Tally()
            for seed in seeds:
                run = run_day(seed, args.days, Path(tmp))
                print(
                    f"  seed {seed}: engine {run.seconds:.0f} s, {len(run.incidents)} incidents, "
                    f"{sum(not e.benign for e in run.events)} failures, "
                    f"{sum(e.benign for e in run.events)} benign events"
                )
                score(run, tally)
                tally.days += args.days
            report(f"{label} seeds", tally)
        print(
            f"\n== bursts of 12 simultaneous severe failures, one per burst seed (watched "
            f"{BURST_MINUTES} min; target per burst: 12 incidents, ≥ 10 types right)"
        )
        met = 0
        for seed in BURST_SEEDS:
            n, opened, right, pairs = burst(seed, Path(tmp))
            ok = opened == n and right >= 10
            met += ok
            wrong = [f"{t}→{d}" for t, d in pairs if t != d]
            print(
                f"  seed {seed}: {opened} incidents, {right} types right"
                f"{'' if ok else '  (missed)'}; wrong: {', '.join(wrong) or 'none'}"
            )
        print(f"  bursts meeting the target: {met} of {len(BURST_SEEDS)}")


if __name__ == "__main__":
    main()
