"""Route modules are included on the first request they serve: the table names every route's
prefix, a request includes exactly what it needs, and the order matches an eager app."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from lib.http.app import ROUTES
from lib.http.lazy_routes import API

ROOT = Path(__file__).resolve().parents[3]


def _paths(app: FastAPI) -> list[str]:
    return [ctx.path_format for ctx in iter_route_contexts(app.routes) if ctx.path_format]


def test_every_route_lives_under_a_prefix_of_its_module() -> None:
    for module in ROUTES:
        router = importlib.import_module(f"lib.http.routes.{module.name}").router
        for ctx in iter_route_contexts(router.routes):
            path = API + ctx.path_format
            assert module.serves(path), f"{module.name}: {path} is outside {module.prefixes}"


def test_a_request_includes_only_the_modules_serving_it(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/api/health").status_code == 200
    paths = _paths(app)
    assert "/api/health" in paths
    assert "/api/fleet" not in paths
    assert not any(p.startswith("/api/push") for p in paths)
    assert client.get("/api/fleet").status_code == 200
    assert "/api/fleet" in _paths(app)


def test_order_is_the_tables_whatever_the_order_of_first_requests(app: FastAPI) -> None:
    client = TestClient(app)
    client.get("/api/push/vapid-public-key")
    client.get("/api/tick")  # operations, before incidents and alerts
    client.get("/api/incidents")
    assert len(client.get("/api/openapi.json").json()["paths"]) > 30
    eager = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for module in ROUTES:
        router = importlib.import_module(f"lib.http.routes.{module.name}").router
        eager.include_router(router, prefix=API)
    lazy = [p for p in _paths(app) if p.startswith(API + "/") and p != "/api/openapi.json"]
    assert lazy == _paths(eager)


def test_openapi_lists_routes_never_requested(app: FastAPI) -> None:
    paths = TestClient(app).get("/api/openapi.json").json()["paths"]
    assert "/api/push/subscriptions" in paths
    assert "/api/analytics/sla" in paths


def test_importing_the_entrypoint_imports_no_route_module_nor_the_engine() -> None:
    code = "import sys, api.index; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    heavy = [m for m in out if m.startswith(("lib.http.routes.", "lib.engine", "lib.alerts"))]
    assert heavy == []
    assert "numpy" not in out
