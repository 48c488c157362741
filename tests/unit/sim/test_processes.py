"""Top processes follow the role and add up to the server's CPU and memory."""

from __future__ import annotations

import math

from lib.sim import Fleet, Incident, Overrides, processes, window
from lib.sim.metrics import CPU, MEMORY
from tests.unit.sim.conftest import QUIET

EXPECTED = {
    "lb": "haproxy", "web": "node", "api": "java", "db": "postgres", "cache": "redis-server",
    "queue": "beam.smp",
}  # fmt: skip


def test_processes_follow_the_role_and_add_up(fleet: Fleet) -> None:
    for server in range(fleet.size):
        procs = processes(fleet, server, 4321, QUIET)
        row = window(fleet, 4321, 4322, QUIET, servers=[server])[0, 0]
        assert math.isclose(sum(p.cpu_pct for p in procs), row[CPU], rel_tol=1e-9, abs_tol=1e-4)
        assert math.isclose(sum(p.memory_pct for p in procs), row[MEMORY], rel_tol=1e-9)
        assert [p.cpu_pct for p in procs] == sorted((p.cpu_pct for p in procs), reverse=True)
        assert EXPECTED[fleet.ids[server].split("-")[0]] in {p.name for p in procs[:2]}
        assert processes(fleet, server, 4321, QUIET) == procs


def test_incidents_show_in_the_process_list(fleet: Fleet) -> None:
    api = fleet.index_of("api-02")
    crash = Incident("c", "application_crash", (api,), 100, 50, injected=True)
    crashed = processes(
        fleet, api, 120, Overrides(injected=(crash,), failures_enabled=False, benign_enabled=False)
    )
    assert "java" not in {p.name for p in crashed}
    breach = Incident("b", "security_breach", (api,), 100, 50, injected=True)
    breached = processes(
        fleet, api, 120, Overrides(injected=(breach,), failures_enabled=False, benign_enabled=False)
    )
    assert breached[0].name == "kdevtmpfsi"
