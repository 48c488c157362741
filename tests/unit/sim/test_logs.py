"""Log lines: deterministic routine noise, and the lines an incident really writes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lib.errors import ValidationError
from lib.sim import (
    BENIGN_TYPES,
    FAILURE_TYPES,
    Fleet,
    Incident,
    LogLine,
    Overrides,
    impact_of,
    logs,
    truth_events,
)
from lib.sim.failures import Reach, Wave, wave
from tests.unit.sim.conftest import DAY, EPOCH, QUIET

START = 3000


def _inject(fleet: Fleet, kind: str, server: str, **recovered: int) -> tuple[Incident, Overrides]:
    """A severe ``kind`` on ``server`` (as scheduled, precursor included): its onset, then 300
    buckets at full effect."""
    drawn = Incident("ops-1", kind, (fleet.index_of(server),), START, 1, False, "severe")
    incident = replace(drawn, duration_buckets=drawn.onset_buckets(3) + 300)
    return incident, Overrides(
        injected=(incident,), recovered_at=recovered, failures_enabled=False, benign_enabled=False
    )


def _messages(lines: tuple[LogLine, ...]) -> str:
    return "\n".join(f"{line.level} {line.source} {line.message}" for line in lines)


def test_routine_lines_are_deterministic_ordered_and_in_range(fleet: Fleet) -> None:
    lines = logs(fleet, fleet.index_of("db-02"), 1000, 2200, QUIET)
    assert lines == logs(fleet, fleet.index_of("db-02"), 1000, 2200, QUIET)
    assert 60 < len(lines) < 140  # about one line every 40 s
    assert {line.level for line in lines} == {"INFO"}
    assert {line.source for line in lines} == {"postgres"}
    assert all(line.incident_id is None for line in lines)
    assert [line.ts_s for line in lines] == sorted(line.ts_s for line in lines)
    assert lines[0].ts_s >= EPOCH + 1000 * 3
    assert lines[-1].ts_s < EPOCH + 2200 * 3
    assert lines[0].timestamp.startswith("2026-01-01T00:")
    assert lines[0].timestamp.endswith("Z")


@pytest.mark.parametrize(
    ("kind", "target", "watch", "expected"),
    [
        ("memory_leak", "api-03", "api-03", "Out of memory: Killed process"),
        ("disk_full", "db-02", "db-02", "No space left on device"),
        ("database_timeout", "db-02", "api-02", "ETIMEDOUT connecting to db-02:5432"),
        ("api_failure", "api-02", "web-02", "502 Bad Gateway from upstream api-02"),
        ("application_crash", "web-02", "web-02", "Main process exited, code=killed"),
        ("security_breach", "web-02", "web-02", "Failed password for invalid user admin"),
        ("dns_resolution_failure", "api-02", "api-02", "getaddrinfo EAI_AGAIN"),
    ],
)
def test_incidents_write_what_they_really_produce(
    fleet: Fleet, kind: str, target: str, watch: str, expected: str
) -> None:
    incident, overrides = _inject(fleet, kind, target)
    impact = impact_of(fleet, incident, overrides)
    server = fleet.index_of(watch)
    assert server in impact.servers
    critical = START + incident.onset_buckets(3)
    lines = logs(fleet, server, critical - 200, critical + 400, overrides)
    assert expected in _messages(lines)
    ours = [line for line in lines if line.incident_id == "ops-1"]
    assert {line.level for line in ours} <= {"WARN", "ERROR"}
    assert all(impact.first_bucket <= line.bucket < impact.last_bucket for line in ours)


def test_failed_logins_come_from_one_address(fleet: Fleet) -> None:
    _, overrides = _inject(fleet, "security_breach", "web-02")
    lines = logs(fleet, fleet.index_of("web-02"), START - 100, START, overrides)
    addresses = {
        line.message.split(" from ")[1].split()[0] for line in lines if "Failed" in line.message
    }
    assert len(addresses) == 1


def test_untouched_servers_log_only_routine_lines(fleet: Fleet) -> None:
    incident, overrides = _inject(fleet, "database_timeout", "db-02")
    impact = impact_of(fleet, incident, overrides)
    bystander = next(s for s in range(fleet.size) if s not in impact.servers)
    lines = logs(fleet, bystander, START, START + 300, overrides)
    assert lines == logs(fleet, bystander, START, START + 300, QUIET)
    callers = next(g for g in impact.groups if g.reach is Reach.CALLERS)
    assert any(
        line.incident_id for line in logs(fleet, callers.servers[0], START, START + 300, overrides)
    )


def test_a_recovery_is_logged(fleet: Fleet) -> None:
    _, overrides = _inject(fleet, "disk_full", "db-02", **{"ops-1": START + 100})
    lines = logs(fleet, fleet.index_of("db-02"), START, START + 200, overrides)
    assert "db-02 back to normal after cleanup_logs" in _messages(lines)


def test_a_disk_fills_with_warnings_before_writes_fail(fleet: Fleet) -> None:
    incident, overrides = _inject(fleet, "disk_full", "db-02")
    full = START + incident.onset_buckets(3)
    lines = logs(fleet, fleet.index_of("db-02"), START, full + 300, overrides)
    ours = [line for line in lines if line.incident_id == "ops-1"]
    failing = [line.bucket for line in ours if "No space left" in line.message]
    growing = [line.bucket for line in ours if "and growing" in line.message]
    assert failing
    assert growing
    assert min(failing) > 0.9 * (full - START) + START  # writes fail only near the full disk
    assert min(growing) < START + 0.5 * (full - START)  # the climb shows long before


def test_an_intermittent_failure_writes_only_during_its_bursts(fleet: Fleet) -> None:
    incident, overrides = _inject(fleet, "network_failure", "db-02")
    lines = logs(fleet, fleet.index_of("db-02"), START, START + 300, overrides)
    buckets = np.array([line.bucket for line in lines if line.incident_id == "ops-1"])
    assert buckets.size > 10
    burst = wave(Wave.BURST, (buckets - START) * 3, incident.onset_s, incident.period_s)
    assert (burst == 1).all()


def test_an_oom_kill_is_logged_once_per_leak_cycle(fleet: Fleet) -> None:
    incident, overrides = _inject(fleet, "memory_leak", "api-03")
    end = START + incident.onset_buckets(3) + 300
    lines = logs(fleet, fleet.index_of("api-03"), START, end, overrides)
    kills = [line.bucket for line in lines if "Out of memory" in line.message]
    assert len(kills) == 1
    assert kills[0] * 3 - START * 3 >= 20 * 60 - 6  # the first OOM after at least 20 minutes


def test_lines_give_clues_but_never_name_the_type(fleet: Fleet) -> None:
    busy = Overrides(failure_rate_per_hour=6.0)
    names = [*FAILURE_TYPES, *BENIGN_TYPES]
    spoken = {n.replace("_", " ") for n in names} | set(names)
    seen = set()
    for event in truth_events(fleet, 0, DAY // 2, busy):
        for server in event.affected[:2]:
            b0 = max(0, event.start_bucket - 20)
            for line in logs(fleet, server, b0, min(b0 + 400, DAY // 2), busy):
                text = f"{line.source} {line.message}".lower()
                assert not any(name in text for name in spoken), line
                if line.incident_id == event.id:
                    seen.add(event.type)
    assert len(seen) >= 8


def test_benign_events_write_routine_lines(fleet: Fleet) -> None:
    events = [e for e in truth_events(fleet, 0, DAY, Overrides()) if e.benign]
    assert {e.type for e in events} == set(BENIGN_TYPES)
    for event in events[:12]:
        b0 = max(event.start_bucket, 0)
        lines = logs(fleet, event.root, b0, b0 + 40, Overrides())
        ours = [line for line in lines if line.incident_id == event.id]
        assert ours, event
        assert {line.level for line in ours} <= {"INFO", "WARN"}


def test_ranges_are_checked(fleet: Fleet) -> None:
    with pytest.raises(ValidationError):
        logs(fleet, fleet.size, 0, 10, QUIET)
    with pytest.raises(ValidationError):
        logs(fleet, 0, 0, 10**6, QUIET)
    assert logs(fleet, 0, 5, 5, QUIET) == ()
