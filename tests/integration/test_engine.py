"""The engine over real time ranges: detection, incidents, recovery, persistence, catch-up."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.engine import Engine, EngineLimits
from lib.engine.operator import acknowledge_alert, inject, resolve
from lib.engine.pipeline import EARLY_RECHECK
from lib.engine.reasons import CLEARED_UNFIXED
from lib.engine.world import RECOVERED, WORLD_KEY
from lib.errors import Conflict, NotFound, ValidationError
from lib.sim import Overrides, window
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from tests.bench.bench_diagnose import spread

DAY = 86_400
START = DEFAULT_EPOCH_S + 20 * DAY + 10 * 3600 + 0.5  # a weekday morning


def make_engine(
    repo: SqliteRepository, clock: FixedClock, **settings: object
) -> tuple[Engine, MemoryKv]:
    values = {"failures_enabled": False, **settings}
    kv = MemoryKv()
    engine = Engine(Settings(_env_file=None, **values), kv, lambda: repo, clock)  # type: ignore[arg-type]
    return engine, kv


def run_minutes(engine: Engine, clock: FixedClock, minutes: int) -> list:
    events = []
    for _ in range(minutes):
        clock.advance(60)
        events.extend(engine.advance(clock.now()).events)
    return events


def test_the_first_call_starts_now_and_a_repeat_is_idle(repo: SqliteRepository) -> None:
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock)
    first = engine.advance(clock.now())
    assert first.outcome == "advanced"
    assert first.processed == (first.bucket, first.bucket + 1)
    assert engine.advance(clock.now()).outcome == "idle"
    assert engine.maybe_advance(clock.now() + 3).outcome == "idle"  # one bucket waits, of two
    clock.advance(60)
    report = engine.maybe_advance(clock.now())
    assert report.outcome == "advanced"
    assert report.processed == (first.bucket + 1, first.bucket + 21)


@pytest.mark.parametrize(
    ("failure_type", "server"),
    [("database_timeout", "db-01"), ("security_breach", "api-02"), ("api_failure", "api-01")],
)
def test_an_injection_never_changes_what_was_already_observed(
    repo: SqliteRepository, failure_type: str, server: str
) -> None:
    """A failure whose type has a precursor, injected now, used to play its precursor in
    buckets already seen: the past moved after the fact (a browser test caught an alert
    stamped two buckets before its injection). A drill has no precursor."""
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock)
    engine.advance(clock.now())
    now_bucket = engine.buckets.bucket_of(clock.now())
    incident = inject(engine, clock.now(), failure_type, [server], 600, "severe")
    assert incident.start_bucket == now_bucket + 1
    fleet = engine.fleet
    before = window(fleet, now_bucket - 60, now_bucket + 1, Overrides(failures_enabled=False))
    after = window(
        fleet,
        now_bucket - 60,
        now_bucket + 1,
        Overrides(injected=(incident,), failures_enabled=False),
    )
    np.testing.assert_array_equal(after, before)
    # From the next bucket on, the drill plays.
    ahead = (now_bucket + 1, now_bucket + 41)
    quiet = window(fleet, *ahead, Overrides(failures_enabled=False))
    moved = window(fleet, *ahead, Overrides(injected=(incident,), failures_enabled=False))
    assert not np.array_equal(moved, quiet)


def test_an_open_incident_gathers_the_log_lines_written_after_it_was_detected(
    repo: SqliteRepository,
) -> None:
    """Detected at its first signs, a database timeout writes most of its log lines after:
    the stored evidence gathers them, the lines shown at detection first."""
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, recovery_success_rate=0.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 10)
    inject(engine, clock.now(), "database_timeout", ["db-01"], 1800, "severe")
    detected = None
    for _ in range(12 * 20):  # bucket by bucket: the evidence as it stood at detection
        clock.advance(3)
        events = engine.advance(clock.now()).events
        detected = next((e for e in events if e.data.get("change") == "detected"), None)
        if detected is not None:
            break
    assert detected is not None
    first = repo.get_incident(detected.data["id"])
    assert first is not None
    at_detection = first.diagnosis["evidence"]["logs"]
    run_minutes(engine, clock, 6)
    record = repo.get_incident(detected.data["id"])
    assert record is not None
    logs = record.diagnosis["evidence"]["logs"]
    assert len(logs) > len(at_detection)
    assert logs[: len(at_detection)] == at_detection
    assert any(line["source"] == "postgres" for line in logs)


def test_a_breach_behind_a_dark_balancer_ends_as_a_breach_incident_of_its_own(
    repo: SqliteRepository,
) -> None:
    """The balancer's cut hides the breach at first (the server reads as crashed); once the
    intruder's CPU and upload show, the web server's incident says breach."""
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, recovery_success_rate=0.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 15)
    fleet = engine.fleet
    balancer = fleet.ids.index("lb-01")
    web = fleet.ids[engine.depends_on[balancer][0]]
    inject(engine, clock.now(), "load_balancer_down", ["lb-01"], 3600, "severe")
    inject(engine, clock.now(), "security_breach", [web], 3600, "severe")
    events = run_minutes(engine, clock, 30)  # a breach ramps up over 2 to 15 minutes

    types = {i.root_server: i.type for i in repo.list_incidents(limit=100)}
    assert types == {"lb-01": "load_balancer_down", web: "security_breach"}
    for e in events:
        if e.kind == "incident" and e.data["change"] == "revised":
            assert e.data["reason"]["en"].startswith("diagnosis revised (was ")


def test_an_injected_failure_is_detected_recovered_and_persisted(repo: SqliteRepository) -> None:
    clock = FixedClock(START)
    engine, kv = make_engine(repo, clock, recovery_success_rate=1.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 10)  # let the detector learn
    incident = inject(engine, clock.now(), "cpu_overload", ["api-02"], 1200, "severe")
    events = run_minutes(engine, clock, 20)  # a CPU overload ramps up over 1 to 10 minutes

    changes = [e.data["change"] for e in events if e.kind == "incident"]
    assert changes[:3] == ["detected", "recovery_started", "recovered"]
    assert changes[-1] == "closed"
    detected = next(e for e in events if e.kind == "incident")
    # The engine names incidents after what it saw: the root server and the bucket.
    assert detected.data["id"] == f"inc-api-02-{detected.bucket}"
    assert detected.data["root_server"] == "api-02"
    assert detected.data["type"] == "cpu_overload"
    # An alert fires by the end of the ramp; diagnosis names the failure once its signature
    # shows, within the ramp too (groups are diagnosed again every few buckets early on).
    first_alert = min(e.bucket for e in events if e.data.get("transition") == "fired")
    ramp = incident.onset_buckets(3)
    assert first_alert - incident.start_bucket <= ramp + 2
    assert detected.bucket - incident.start_bucket <= ramp + EARLY_RECHECK[1] + 2

    record = repo.get_incident(detected.data["id"])
    assert record is not None
    assert record.status == "recovered"
    assert record.strategy == "scale_up"
    assert [t.event for t in record.timeline][:4] == [
        "started",
        "detected",
        "recovery_started",
        "recovered",
    ]
    # Onset as observed: a drill has no precursor, so not before its start; by the end of the
    # ramp at the latest.
    true_start = engine.fleet.epoch_s + incident.start_bucket * 3
    assert 0 <= record.started_at.timestamp() - true_start <= 3 * incident.onset_buckets(3)
    # The truth is kept apart, labelled as the simulator's.
    assert record.diagnosis["type"] == "cpu_overload"
    assert record.diagnosis["evidence"]["metrics"]
    assert record.scenario["incidents"][0]["id"] == incident.id
    # The fix fitted the simulated failure: the world ended it.
    assert kv.hget(WORLD_KEY, f"{RECOVERED}{incident.id}") is not None
    alerts = repo.list_alerts(server_id="api-02")
    # Caught during its ramp: alerts on what a CPU overload moves, not always CPU itself yet.
    assert alerts
    assert {a.metric for a in alerts} <= {"cpu_pct", "load1", "response_ms", "error_pct"}
    assert all(a.state == "resolved" for a in alerts)


def test_a_failed_recovery_escalates_and_waits_for_an_operator(repo: SqliteRepository) -> None:
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, recovery_success_rate=0.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 10)
    inject(engine, clock.now(), "config_error", ["api-03"], 3600, "severe")
    events = run_minutes(engine, clock, 5)
    detected = next(e for e in events if e.kind == "incident")
    record = repo.get_incident(detected.data["id"])
    assert record is not None
    assert record.status == "escalated"
    # Two attempts (the diagnosed type's strategy, then the same again or the next
    # hypothesis'), then escalation.
    steps = [t.event for t in record.timeline]
    assert steps.count("recovery_started") == len(record.diagnosis["attempts"]) == 2
    assert steps[-1] == "escalated"
    firing = repo.list_alerts(server_id="api-03", states=["firing"])
    assert firing
    assert {a.level for a in firing} == {"critical"}

    alert = firing[0]
    acknowledge_alert(engine, clock.now(), alert.id, "user:kim")
    acknowledged = repo.get_alert(alert.id)
    assert acknowledged is not None
    assert (acknowledged.state, acknowledged.acknowledged_by) == ("acknowledged", "user:kim")
    with pytest.raises(NotFound):
        acknowledge_alert(engine, clock.now(), "al-api-03-cpu_pct-1", "user:kim")

    resolve(engine, clock.now(), record.id, "user:kim")
    with pytest.raises(Conflict):
        resolve(engine, clock.now(), record.id, "user:kim")
    run_minutes(engine, clock, 5)
    closed = repo.get_incident(record.id)
    assert closed is not None
    assert (closed.status, closed.resolved_by) == ("resolved", "user:kim")


def test_a_leak_nobody_fixed_is_one_incident_that_comes_back_each_cycle(
    repo: SqliteRepository,
) -> None:
    """The OOM kill clears a leak's alerts for most of its cycle, longer than an escalated
    incident waits; when the heap climbs again, the same incident reopens, still waiting for
    an operator (the engine does not try its failed fix again), until one resolves it."""
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, recovery_success_rate=0.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 20)
    leak = inject(engine, clock.now(), "memory_leak", ["api-02"], 6 * 3600, "severe")
    changes: list[str] = []
    for _ in range(3 * leak.onset_s // 60):
        changes += [e.data["change"] for e in run_minutes(engine, clock, 1) if e.kind == "incident"]
        if "reopened" in changes:
            break
    assert changes[-2:] == ["closed", "reopened"]
    [record] = repo.list_incidents(limit=100)
    assert (record.type, record.status, record.resolved_at) == ("memory_leak", "escalated", None)
    steps = [t.event for t in record.timeline]
    assert steps.count("recovery_started") == 2
    assert steps[-3:] == ["escalated", "closed", "reopened"]
    # The OOM kill cleared the alerts, not a fix: the close says so.
    assert (record.timeline[-2].reason, record.timeline[-2].reason_ko) == CLEARED_UNFIXED

    resolve(engine, clock.now(), record.id, "user:kim")
    run_minutes(engine, clock, 5)
    done = repo.get_incident(record.id)
    assert done is not None
    assert (done.status, done.resolved_by) == ("resolved", "user:kim")


def test_operator_input_is_checked(repo: SqliteRepository) -> None:
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock)
    with pytest.raises(ValidationError) as bad_type:
        inject(engine, clock.now(), "meteor_strike", ["api-01"], 60)
    assert bad_type.value.details["field"] == "type"
    with pytest.raises(ValidationError) as wrong_role:
        inject(engine, clock.now(), "database_timeout", ["web-01"], 60)
    assert wrong_role.value.details["field"] == "servers"
    with pytest.raises(NotFound):
        inject(engine, clock.now(), "cpu_overload", ["api-99"], 60)
    with pytest.raises(NotFound):
        resolve(engine, clock.now(), "inc-nope", "user:kim")


def test_catch_up_after_a_long_idle_is_bounded(repo: SqliteRepository) -> None:
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock)
    engine.limits = EngineLimits(max_detail_buckets=200, max_gap_buckets=1200)
    first = engine.advance(clock.now())
    clock.advance(2 * DAY)
    report = engine.advance(clock.now())
    assert report.processed == (first.bucket + 1, report.bucket + 1)
    minutes = {r.minute for r in repo.list_rollups(server_ids=["web-01"], limit=100_000)}
    # The gap rolled up: the last 1200 + 200 buckets, i.e. 70 whole minutes at most.
    assert 60 <= len(minutes) <= 71
    assert engine.advance(clock.now()).outcome == "idle"


def test_rollups_cover_every_minute_once_whatever_the_call_pattern(
    repo: SqliteRepository,
) -> None:
    clock = FixedClock(START - 0.5 + 30)  # starts mid-minute
    engine, _ = make_engine(repo, clock)
    engine.advance(clock.now())
    for step in (7, 13, 41, 3, 60, 17, 59):
        clock.advance(step * 3)
        engine.advance(clock.now())
    rows = repo.list_rollups(server_ids=["db-01"], limit=100_000)
    minutes = [r.minute for r in rows]
    assert len(minutes) == len(set(minutes))
    gaps = {(b - a).total_seconds() for a, b in pairwise(minutes)}
    assert gaps == {60.0}
    assert all(r.samples == 20 for r in rows)


def test_the_first_advance_of_a_day_deletes_history_past_retention(
    repo: SqliteRepository,
) -> None:
    from datetime import UTC, datetime, timedelta

    from lib.store.db import RollupRecord

    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, retention_days=2)
    now = datetime.fromtimestamp(START, UTC).replace(second=0, microsecond=0)
    old, recent = now - timedelta(days=3), now - timedelta(days=1)
    repo.upsert_rollups(
        [
            RollupRecord(
                server_id="web-01", minute=m, samples=20, avg={"cpu_pct": 1.0}, max={"cpu_pct": 2.0}
            )
            for m in (old, recent)
        ]
    )
    engine.advance(clock.now())
    kept = {r.minute for r in repo.list_rollups(server_ids=["web-01"], end=now)}
    assert kept == {recent}
    # Once a day: later calls the same day leave older rows (written meanwhile) alone.
    repo.upsert_rollups(
        [
            RollupRecord(
                server_id="web-01",
                minute=old,
                samples=20,
                avg={"cpu_pct": 1.0},
                max={"cpu_pct": 2.0},
            )
        ]
    )
    clock.advance(60)
    engine.advance(clock.now())
    assert old in {r.minute for r in repo.list_rollups(server_ids=["web-01"], end=now)}
    clock.advance(86_400)
    engine.advance(clock.now())
    assert old not in {r.minute for r in repo.list_rollups(server_ids=["web-01"], end=now)}


def test_notifications_at_or_above_the_minimum_level_reach_the_notifier_once(
    repo: SqliteRepository,
) -> None:
    from lib.alerts import Notification

    received: list[Notification] = []
    clock = FixedClock(START)
    settings = Settings(_env_file=None, failures_enabled=False, notify_min_level="error")  # type: ignore[call-arg]
    engine = Engine(
        settings, MemoryKv(), lambda: repo, clock, notify=lambda notes, *_: received.extend(notes)
    )
    engine.advance(clock.now())
    run_minutes(engine, clock, 10)
    inject(engine, clock.now(), "database_timeout", ["db-02"], 600, "severe")
    run_minutes(engine, clock, 10)  # it ramps up over 1 to 8 minutes
    assert received
    assert all(n.level.label in ("error", "critical") for n in received)
    opened = [n for n in received if n.reason == "opened"]
    assert len(opened) == 1
    assert engine.fleet.ids[opened[0].root] == "db-02"


def test_an_instance_that_finds_the_work_done_learns_it_in_one_command(
    repo: SqliteRepository,
) -> None:
    """Streams on an instance that did not advance get the events of one that did, with no
    read beyond the BEGIN that found the work done, and the same events as the KV holds."""
    clock = FixedClock(START)
    worker, kv = make_engine(repo, clock)
    settings = Settings(_env_file=None, failures_enabled=False)
    follower = Engine(settings, kv, lambda: repo, clock)
    worker.advance(clock.now())
    follower.advance(clock.now())  # idle: the world and its first events
    seen = follower.world(clock.now()).last
    assert seen is not None
    follower.events_between(seen, seen + 1)  # a stream's first read

    def no_read(b0: int, b1: int) -> list:
        raise AssertionError(f"events {b0}..{b1} read again")

    follower._read_events = no_read  # type: ignore[method-assign]
    inject(worker, clock.now(), "config_error", ["api-03"], 3600, "severe")
    for _ in range(20):
        clock.advance(3)
        worker.advance(clock.now())
        before = kv.commands_sent
        assert follower.advance(clock.now()).outcome == "idle"
        last = follower.world(clock.now()).last
        assert last == worker.world(clock.now()).last
        shared = follower.events_between(seen + 1, last + 1)
        # The BEGIN, and the alert-book chunks that changed if any: no world or events read.
        assert kv.commands_sent - before <= 2
        assert shared == worker._read_events(seen + 1, last + 1)
    assert shared, "the injected failure raised events to share"


def test_twelve_simultaneous_failures_are_twelve_incidents(repo: SqliteRepository) -> None:
    """The burst of ``bench_diagnose``: the twelve types at once, spread over the regions.

    Failures that overlap in time stay apart, each with its own diagnosis, even where the
    topology links their servers (a balancer with a bad config in front of a web server
    whose DNS fails) or a dark balancer hides what happens behind it.
    """
    clock = FixedClock(START)
    engine, _ = make_engine(repo, clock, recovery_success_rate=0.0)
    engine.advance(clock.now())
    run_minutes(engine, clock, 15)  # let the detector learn
    fleet = engine.fleet
    targets = spread(fleet)
    for name, server in targets:
        inject(engine, clock.now(), name, [fleet.ids[server]], 6 * 3600, "severe")
    run_minutes(engine, clock, 35)  # a disk fill (1 to 12 h to full) shows within it

    incidents = repo.list_incidents(limit=100)
    injected = {fleet.ids[server]: name for name, server in targets}
    assert len(incidents) == len(targets) == 12
    assert sorted(i.root_server for i in incidents) == sorted(injected)  # type: ignore[type-var]
    right = [i.type for i in incidents if i.type == injected[i.root_server or ""]]
    assert len(right) >= 10, [(i.root_server, i.type) for i in incidents]
    # A target's alerts belong to its own incident, not to a neighbour's that shares their
    # group (a leak or a disk fill seen climbing opens its incident apart from its alerts).
    linked = {
        i.id: {a.incident_id for a in repo.list_alerts(server_id=i.root_server, limit=1000)}
        for i in incidents
    }
    assert sum(ids == {i} for i, ids in linked.items()) >= 10, linked
