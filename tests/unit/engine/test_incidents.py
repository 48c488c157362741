"""Incident logic and recovery plans, pure: no KV, no store, no simulator truth."""

from __future__ import annotations

from dataclasses import replace

from lib.diagnose import Diagnosis, Hypothesis
from lib.diagnose.classify import MAX_LOG_LINES
from lib.diagnose.model import ObservedLog
from lib.engine.incidents import (
    QUIET_BUCKETS,
    QUIET_ESCALATED,
    REOPEN_BUCKETS,
    attached,
    closing,
    joinable,
    recent,
    reopenable,
    reopened,
    revised,
    with_new_logs,
)
from lib.engine.reasons import CLEARED_UNFIXED, SELF_HEALED
from lib.engine.recovery import MAX_ATTEMPTS, plan_recovery, strategies_for
from lib.engine.world import IncidentTrack

TRACK = IncidentTrack(
    id="inc-api-02-100",
    type="cpu_overload",
    servers=(12,),
    root=12,
    started_bucket=95,
    detected_bucket=100,
    group_id="grp-a",
    groups=("grp-a",),
)


def test_the_diagnosed_fix_first_then_the_next_hypothesis_then_an_operator() -> None:
    hypotheses = (Hypothesis("cpu_overload", 0.5), Hypothesis("security_breach", 0.45))
    strategies = strategies_for("cpu_overload", hypotheses, confidence=0.3)
    assert strategies == ("scale_up", "isolate_and_rotate_credentials")
    tried: list[tuple[str, int]] = []

    def nothing_fits(strategy: str, attempt: int, bucket: int) -> tuple[str, ...]:
        tried.append((strategy, attempt))
        return ()

    planned, changes = plan_recovery(TRACK, strategies, bucket_seconds=3, outcome=nothing_fits)
    assert changes == {}  # a wrong fix changes nothing in the world
    assert tried == [("scale_up", 0), ("isolate_and_rotate_credentials", 1)]
    events = [e for _, e, _ in planned.plan]
    assert events == ["recovery_started", "recovery_failed"] * MAX_ATTEMPTS + ["escalated"]
    buckets = [b for b, _, _ in planned.plan]
    assert buckets == sorted(buckets)
    assert buckets[0] > TRACK.detected_bucket


def test_a_fix_that_fits_ends_the_plan_and_the_failure() -> None:
    def second_fits(strategy: str, attempt: int, bucket: int) -> tuple[str, ...]:
        return ("sim-7",) if attempt == 1 else ()

    planned, changes = plan_recovery(
        TRACK, ("scale_up", "restart_service"), bucket_seconds=3, outcome=second_fits
    )
    assert [e for _, e, _ in planned.plan][-1] == "recovered"
    assert changes == {"sim-7": planned.plan[-1][0]}


def test_a_confident_diagnosis_tries_its_fix_again_before_giving_up() -> None:
    """A fitting fix works only most of the time: after a failed first try, a confident
    diagnosis is likelier right than its runner-up, so its fix gets the second attempt."""
    hypotheses = (Hypothesis("cpu_overload", 0.65), Hypothesis("memory_leak", 0.27))
    assert strategies_for("cpu_overload", hypotheses, confidence=0.65) == ("scale_up",) * 2
    # No other hypothesis worth acting on: the same fix again, whatever the confidence.
    alone = (Hypothesis("database_timeout", 0.45), Hypothesis("disk_full", 0.2))
    assert strategies_for("database_timeout", alone, confidence=0.3) == ("failover",) * 2
    # Two types with one fix (a leak and a crash are both restarted) count as one.
    leak = (Hypothesis("memory_leak", 0.55), Hypothesis("application_crash", 0.33))
    assert strategies_for("memory_leak", leak, confidence=0.45) == ("restart_service",) * 2

    def second_try_works(strategy: str, attempt: int, bucket: int) -> tuple[str, ...]:
        return ("sim-7",) if attempt == 1 else ()

    planned, changes = plan_recovery(
        TRACK, ("scale_up", "scale_up"), bucket_seconds=3, outcome=second_try_works
    )
    events = [(e, en.split(":")[0]) for _, e, (en, _ko) in planned.plan]
    assert events == [
        ("recovery_started", "scale_up"),
        ("recovery_failed", "scale_up did not help"),
        ("recovery_started", "scale_up (again)"),
        ("recovered", "scale_up succeeded"),
    ]
    assert changes == {"sim-7": planned.plan[-1][0]}
    assert [ko.split(":")[0] for _, _, (_en, ko) in planned.plan] == [
        "자원 증설",
        "자원 증설 효과 없음",
        "자원 증설 (재시도)",
        "자원 증설 성공",
    ]


def test_unknown_tries_only_hypotheses_worth_acting_on() -> None:
    assert strategies_for("unknown", (Hypothesis("disk_full", 0.1),)) == ()
    assert strategies_for("unknown", (Hypothesis("disk_full", 0.3),)) == ("cleanup_logs",)


def test_an_incident_closes_only_after_its_alerts_stay_quiet() -> None:
    t = closing(TRACK, {"grp-a"}, 200, {})
    assert t.resolved_by is None
    quiet = closing(t, set(), 201, {})
    assert quiet.quiet_since == 201
    assert closing(quiet, set(), 201 + QUIET_BUCKETS - 1, {}).resolved_by is None
    # Alerting again (a leak's next cycle) keeps it open and restarts the count.
    again = attached(quiet, "grp-b")
    assert again.quiet_since is None
    assert again.groups == ("grp-a", "grp-b")
    closed = closing(quiet, set(), 201 + QUIET_BUCKETS, {})
    assert (closed.status, closed.resolved_by) == ("resolved", "self")
    # An operator's resolution closes it as soon as its alerts clear.
    by_hand = closing(TRACK, set(), 300, {TRACK.id: "user:kim"})
    assert (by_hand.status, by_hand.resolved_by) == ("resolved", "user:kim")


def test_an_escalated_incident_that_clears_by_itself_says_nothing_fixed_it() -> None:
    """A leak nobody fixed clears its alerts at each OOM kill: "back to normal" would mislead."""
    escalated = replace(TRACK, status="escalated", escalated_bucket=150)
    quiet = closing(escalated, set(), 200, {})
    closed = closing(quiet, set(), 200 + QUIET_ESCALATED, {})
    assert (closed.status, closed.resolved_by) == ("resolved", "self")
    assert closed.timeline[-1] == (200 + QUIET_ESCALATED, "closed", CLEARED_UNFIXED)
    healed = closing(closing(TRACK, set(), 200, {}), set(), 200 + QUIET_BUCKETS, {})
    assert healed.timeline[-1] == (200 + QUIET_BUCKETS, "closed", SELF_HEALED)


def test_more_of_the_same_failure_nearby_joins_one_incident() -> None:
    class D:
        type = "cpu_overload"
        root = 13
        onset_bucket = 120

    regions = tuple([0] * 30)
    assert joinable({TRACK.id: TRACK}, D(), regions) == TRACK  # type: ignore[arg-type]
    elsewhere = tuple(0 if s != 13 else 1 for s in range(30))
    assert joinable({TRACK.id: TRACK}, D(), elsewhere) is None  # type: ignore[arg-type]
    fixed = replace(TRACK, recovered_bucket=110)
    assert joinable({TRACK.id: fixed}, D(), regions) is None  # type: ignore[arg-type]


IDS = tuple(f"srv-{i:02d}" for i in range(20))


def diagnosis(lines: range, *, root: int = 12, kind: str = "cpu_overload") -> Diagnosis:
    logs = tuple(ObservedLog(100 + i, root, "WARN", "kernel", f"load {i}") for i in lines)
    return Diagnosis(kind, 0.7, (), root, (root,), 95, (), logs, "", "")


def test_log_lines_written_after_detection_join_the_evidence() -> None:
    """Detected at its first signs, a failure writes its log lines after: the evidence the
    incident shows gathers them while it is open, the first ones kept, up to the cap."""
    track = replace(TRACK, diagnosis=diagnosis(range(0)).to_dict(IDS))
    assert with_new_logs(track, diagnosis(range(0)), IDS) is track
    grown = with_new_logs(track, diagnosis(range(2)), IDS)
    assert [line["message"] for line in grown.diagnosis["evidence"]["logs"]] == ["load 0", "load 1"]
    assert grown.diagnosis["type"] == track.diagnosis["type"]
    # The same lines again are nothing new; more are added after them, up to the cap.
    assert with_new_logs(grown, diagnosis(range(2)), IDS) is grown
    full = with_new_logs(grown, diagnosis(range(1, 20)), IDS)
    messages = [line["message"] for line in full.diagnosis["evidence"]["logs"]]
    assert messages == [f"load {i}" for i in range(MAX_LOG_LINES)]


def test_another_failure_adds_nothing_to_the_evidence() -> None:
    track = replace(TRACK, diagnosis=diagnosis(range(0)).to_dict(IDS))
    assert with_new_logs(track, diagnosis(range(3), root=13), IDS) is track
    assert with_new_logs(track, diagnosis(range(3), kind="memory_leak"), IDS) is track


def ranked(kind: str, score: float, *, root: int = 12) -> Diagnosis:
    return Diagnosis(kind, 0.6, (Hypothesis(kind, score),), root, (root,), 95, (), (), "", "")


def test_a_clearly_better_diagnosis_of_the_same_root_revises_the_type() -> None:
    """A breach detected while a dark balancer hid it read as a crash; once its upload shows,
    the incident says so, in its timeline too, and keeps its servers."""
    first = ranked("application_crash", 0.5)
    track = replace(TRACK, type="application_crash", servers=(12, 13), diagnosis=first.to_dict(IDS))
    better = revised(track, ranked("security_breach", 0.65), 200, IDS)
    assert better.type == better.diagnosis["type"] == "security_breach"
    assert better.diagnosis["affected"] == ["srv-12", "srv-13"]
    at, event, (en, ko) = better.timeline[-1]
    assert (at, event) == (200, "revised")
    assert "was application_crash" in en
    assert "애플리케이션" in ko
    assert (better.id, better.started_bucket, better.plan) == (track.id, track.started_bucket, ())


def test_a_diagnosis_is_not_revised_on_a_hunch_nor_while_its_plan_runs() -> None:
    track = replace(
        TRACK, type="application_crash", diagnosis=ranked("application_crash", 0.5).to_dict(IDS)
    )
    for d in (
        ranked("security_breach", 0.55),  # not clearly better
        ranked("application_crash", 0.9),  # the same failure
        ranked("unknown", 0.9),
        ranked("security_breach", 0.9, root=13),  # another server's failure
    ):
        assert revised(track, d, 200, IDS) is track
    running = replace(track, plan=((210, "recovery_failed", ("", "")),))
    assert revised(running, ranked("security_breach", 0.9), 200, IDS) is running
    fixed = replace(track, recovered_bucket=190)
    assert revised(fixed, ranked("security_breach", 0.9), 200, IDS) is fixed


def self_closed(track: IncidentTrack, at: int) -> IncidentTrack:
    """``track`` closed by itself at ``at``: its alerts cleared and stayed clear."""
    quiet = closing(track, set(), at - QUIET_ESCALATED, {})
    done = closing(quiet, set(), at, {})
    assert (done.status, done.resolved_by, done.resolved_bucket) == ("resolved", "self", at)
    return done


def test_a_failure_that_comes_back_on_its_root_reopens_its_incident_as_it_stood() -> None:
    """A leak the engine could not fix: the OOM kill clears its alerts for an hour, then it
    climbs again. It is the same incident, still waiting for an operator."""
    escalated = replace(TRACK, type="memory_leak", status="escalated", escalated_bucket=150)
    gone = self_closed(escalated, 1_000)
    closed = {gone.id: gone}
    leak = ranked("memory_leak", 0.8)
    assert reopenable(closed, leak, 2_000) is gone
    back = reopened(gone, "grp-b", 2_000, IDS)
    assert (back.id, back.status, back.escalated_bucket) == (TRACK.id, "escalated", 150)
    assert (back.resolved_bucket, back.resolved_by, back.quiet_since) == (None, None, None)
    assert (back.group_id, back.groups) == ("grp-b", ("grp-b",))
    assert [e for _, e, _ in back.timeline[-2:]] == ["closed", "reopened"]
    assert "srv-12" in back.timeline[-1][2][0]
    assert "srv-12" in back.timeline[-1][2][1]
    again = reopened(self_closed(back, 3_000), "grp-c", 3_500, IDS)
    assert "recurrence 2" in again.timeline[-1][2][0]
    assert "2회째" in again.timeline[-1][2][1]
    never_escalated = reopened(self_closed(TRACK, 1_000), "grp-b", 1_100, IDS)
    assert never_escalated.status == "active"


def test_only_the_same_failure_on_the_same_root_soon_after_reopens() -> None:
    gone = self_closed(replace(TRACK, type="memory_leak"), 1_000)
    closed = {gone.id: gone}
    late = 1_000 + REOPEN_BUCKETS + 1
    assert reopenable(closed, ranked("memory_leak", 0.8), late) is None
    assert recent(closed, late) == {}
    assert recent(closed, late - 1) == closed
    assert reopenable(closed, ranked("disk_full", 0.8), 1_100) is None
    assert reopenable(closed, ranked("memory_leak", 0.8, root=13), 1_100) is None
    assert reopenable(closed, ranked("unknown", 0.8), 1_100) is None
    by_operator = closing(replace(TRACK, type="memory_leak"), set(), 1_000, {TRACK.id: "kim"})
    assert reopenable({TRACK.id: by_operator}, ranked("memory_leak", 0.8), 1_100) is None


def test_a_leak_whose_kill_reads_otherwise_comes_back_while_its_logs_still_name_it() -> None:
    """At the OOM kill a leak's metrics read as a configuration error (memory down, errors
    up); its heap's GC lines on the same server say it is the leak again."""
    gone = self_closed(replace(TRACK, type="memory_leak"), 1_000)
    closed = {gone.id: gone}

    def kill(*messages: str, server: int = 12) -> Diagnosis:
        logs = tuple(ObservedLog(990, server, "WARN", "node", m) for m in messages)
        hypotheses = (Hypothesis("config_error", 0.59), Hypothesis("memory_leak", 0.48))
        return Diagnosis("config_error", 0.4, hypotheses, 12, (12,), 995, (), logs, "", "")

    gc = "GC overhead: 30 ms pause, heap 82% used"
    assert reopenable(closed, kill(gc), 1_100) is gone
    assert reopenable(closed, kill(gc, server=13), 1_100) is None  # another server's heap
    assert reopenable(closed, kill(), 1_100) is None  # nothing names the leak
    assert reopenable(closed, kill(gc, "invalid configuration in /etc/app"), 1_100) is None
    no_leak = replace(kill(gc), hypotheses=(Hypothesis("config_error", 0.59),))
    assert reopenable(closed, no_leak, 1_100) is None
