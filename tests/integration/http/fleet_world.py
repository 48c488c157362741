"""A fleet with a history, built once per test run for the read routes' tests.

Spontaneous failures are off and every recovery fails, so what exists is exactly what the
builder did: a config_error on web-02 that came and went (stored, resolved), a memory_leak on
api-03 still open with an acknowledged alert, and a disk_full on db-02 injected after the last
processed bucket (not detected yet). ``closed`` and ``open`` are the engine's incident ids
(what it diagnosed), ``injected`` the simulator's id of the undetected one. Tests only read
it: the clock never moves, and no batch of buckets waits, so reads do not advance the engine
either.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S
from lib.engine import Engine
from lib.engine.operator import acknowledge_alert, inject
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import https_client, make_settings, state_of

DAY_S = 86_400
START = DEFAULT_EPOCH_S + 20 * DAY_S + 10 * 3600 + 0.5  # a weekday morning, mid-bucket


@dataclass(frozen=True)
class FleetWorld:
    app: FastAPI
    clock: FixedClock
    closed: str
    open: str
    injected: str
    acknowledged_alert: str
    directory: tempfile.TemporaryDirectory[str]

    @property
    def engine(self) -> Engine:
        return state_of(self.app).engine

    def client(self) -> TestClient:
        """A client without the lifespan: closing it would close the shared stores."""
        return https_client(self.app)


def _detected(engine: Engine, injected_id: str) -> str:
    """The id of the engine's incident that the simulator's ``injected_id`` lies behind."""
    found = [
        r.id
        for r in engine.repo().list_incidents(limit=100)
        if injected_id in {i["id"] for i in r.scenario.get("incidents", [])}
    ]
    assert len(found) == 1, (injected_id, found)
    return found[0]


def _run(engine: Engine, clock: FixedClock, minutes: int) -> None:
    for _ in range(minutes):
        clock.advance(60)
        engine.advance(clock.now())


@cache
def fleet_world() -> FleetWorld:
    directory = tempfile.TemporaryDirectory(prefix="om-reads-")
    clock = FixedClock(START)
    settings = make_settings(
        Path(directory.name), failures_enabled=False, recovery_success_rate=0.0
    )
    app = create_app(settings, clock=clock, kv=MemoryKv())
    engine = state_of(app).engine
    engine.advance(clock.now())
    _run(engine, clock, 10)  # the detector learns the fleet
    # A leak climbs for 20 to 180 minutes to its OOM kill: the world stands just before it,
    # memory at its top. A sudden config error comes and goes during its last 10 minutes
    # (its alerts clear a minute or so after it ends; an escalated incident closes after
    # five quiet minutes).
    still_open = inject(engine, clock.now(), "memory_leak", ["api-03"], 4 * 3600)
    climb = (still_open.onset_s - 30) // 60
    _run(engine, clock, climb - 10)
    closed = inject(engine, clock.now(), "config_error", ["web-02"], 120)
    _run(engine, clock, 10)
    firing = state_of(app).repo.list_alerts(server_id="api-03", states=["firing"])
    acknowledge_alert(engine, clock.now(), firing[0].id, "user:kim")
    pending = inject(engine, clock.now(), "disk_full", ["db-02"], 600)
    return FleetWorld(
        app=app,
        clock=clock,
        closed=_detected(engine, closed.id),
        open=_detected(engine, still_open.id),
        injected=pending.id,
        acknowledged_alert=firing[0].id,
        directory=directory,
    )
