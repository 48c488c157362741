"""The engine decides without the simulator's answer key.

Every ground-truth accessor of the simulator (the schedule, the impacts, the truth arrays)
is made to raise everywhere outside the simulator itself and the world model (which plays
the world: what an action does to the simulated servers). The engine must still detect,
diagnose, recover, and every read route must still serve.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import lib
import lib.sim
from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S
from lib.engine.operator import inject
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    CRON_SECRET,
    bearer,
    https_client,
    make_settings,
    state_of,
)

TRUTH = (
    "window_truth", "impacts_between", "incidents_between", "impact_of", "snapshot",
    "ground_truth", "truth_events", "benign_between",
)  # fmt: skip
"""The simulator's answer key: where incidents are, which incident moved which metric."""
WORLD_MODEL = "lib.engine.world"
REQUIRED_QUERY = {"metric": "response_ms"}
OFF_FEATURES = {"/api/push/vapid-public-key"}  # Web Push is not configured here: a clean 404
START = DEFAULT_EPOCH_S + 20 * 86_400 + 10 * 3600 + 0.5


class TruthRead(AssertionError):
    """Raised by every ground-truth accessor while the answer key is hidden."""


def _raiser(name: str) -> Any:
    def hidden(*args: object, **kwargs: object) -> None:
        raise TruthRead(f"{name} read on the engine's decision path")

    return hidden


@pytest.fixture
def blind(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hide the truth from every loaded module outside ``lib.sim`` and the world model."""
    originals = {getattr(lib.sim, name) for name in TRUTH}
    patched = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("lib.") or module_name.startswith("lib.sim."):
            continue
        if module_name == WORLD_MODEL:
            continue
        for name in TRUTH:
            if getattr(module, name, None) in originals:
                monkeypatch.setattr(module, name, _raiser(name))
                patched.append(f"{module_name}.{name}")
    return patched


def test_only_the_world_model_and_the_simulator_import_the_truth() -> None:
    root = Path(lib.__file__).parent
    readers = set()
    for path in root.rglob("*.py"):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        if module.startswith("lib.sim"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("lib.sim")
                and {a.name for a in node.names} & set(TRUTH)
            ):
                readers.add(module)
    assert readers == {WORLD_MODEL}


def test_without_the_truth_the_engine_detects_diagnoses_recovers_and_serves(
    tmp_path: Path, blind: list[str]
) -> None:
    assert blind, "nothing was hidden: the test would prove nothing"
    clock = FixedClock(START)
    settings = make_settings(tmp_path, failures_enabled=False, recovery_success_rate=1.0)
    app = create_app(settings, clock=clock, kv=MemoryKv())
    engine = state_of(app).engine
    engine.advance(clock.now())
    for _ in range(10):
        clock.advance(60)
        engine.advance(clock.now())
    injected = inject(engine, clock.now(), "database_timeout", ["db-01"], 1200)
    events = []
    for _ in range(6):
        clock.advance(60)
        events += engine.advance(clock.now()).events
    changes = [(e.data["change"], e.data["type"]) for e in events if e.kind == "incident"]
    assert ("detected", "database_timeout") in changes
    assert ("recovered", "database_timeout") in changes
    with pytest.raises(TruthRead):  # the answer key really is hidden from the shell
        lib.sim.incidents_between(engine.fleet, 0, 1, engine.overrides(clock.now()))
    _every_read_route_serves(app, injected.id)


def _every_read_route_serves(app: FastAPI, injected_id: str) -> None:
    with https_client(app) as client:
        spec = client.get("/api/openapi.json").json()
        incidents = client.get("/api/incidents", headers=ADMIN).json()["incidents"]
        detected = next(i for i in incidents if i["diagnosis"] is not None)
        assert detected["type"] == detected["diagnosis"]["type"] == "database_timeout"
        assert detected["scenario"]["incidents"][0]["id"] == injected_id
        values = {"server_id": "db-01", "incident_id": detected["id"]}
        served = []
        for path, operations in spec["paths"].items():
            if "get" not in operations or path == "/api/stream":  # SSE: test_stream's job
                continue
            headers = bearer(CRON_SECRET) if path == "/api/tick" else ADMIN
            required = {
                p["name"]: REQUIRED_QUERY[p["name"]]
                for p in operations["get"].get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            response = client.get(path.format(**values), params=required, headers=headers)
            expected = 404 if path in OFF_FEATURES else 200
            assert response.status_code == expected, (path, response.text)
            served.append(path)
        assert "/api/incidents/{incident_id}" in served
        assert len(served) >= 15
