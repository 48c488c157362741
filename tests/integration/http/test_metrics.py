"""The app's own Prometheus figures: per route template, from the stores, in its own registry."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from lib.http.app import create_app
from lib.http.metrics import UNMATCHED_ROUTE, render_app_metrics
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import ADMIN, https_client, make_settings, state_of


def _sample(app: FastAPI, name: str, **labels: str) -> float | None:
    return state_of(app).metrics.registry.get_sample_value(name, labels)


def test_requests_are_counted_by_route_template_and_status_class(
    app: FastAPI, client: TestClient
) -> None:
    client.delete("/api/tokens/aaaa", headers=ADMIN)
    client.delete("/api/tokens/bbbb", headers=ADMIN)
    client.get("/api/health")
    client.get("/api/no/such/path/12345")
    route = {"method": "DELETE", "route": "/api/tokens/{token_id}"}
    assert _sample(app, "om_http_requests_total", **route, status="4xx") == 2
    assert _sample(app, "om_http_request_duration_seconds_count", **route) == 2
    assert (
        _sample(app, "om_http_requests_total", method="GET", route="/api/health", status="2xx") == 1
    )
    unmatched = {"method": "GET", "route": UNMATCHED_ROUTE, "status": "4xx"}
    assert _sample(app, "om_http_requests_total", **unmatched) == 1
    assert "12345" not in render_app_metrics(state_of(app))


def test_store_figures_are_read_at_scrape_time(app: FastAPI, client: TestClient) -> None:
    client.post("/api/tokens", json={"name": "x", "role": "viewer"}, headers=ADMIN)
    state = state_of(app)
    text = render_app_metrics(state)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (kv_commands,) = families["om_kv_commands"].samples
    assert kv_commands.labels == {"backend": "memory"}
    # The scrape itself read the outbox depth: one command more than before it.
    assert kv_commands.value == state.kv.commands_sent - 1
    (db_writes,) = families["om_db_writes"].samples
    assert db_writes.labels == {"backend": "sqlite"}
    assert db_writes.value >= 1
    assert families["om_outbox_depth"].samples[0].value == 0
    for placeholder in ("om_push_sent", "om_push_failed"):
        assert families[placeholder].samples[0].value == 0
    assert families["om_ai_questions"].type == "counter"


def test_an_unopened_repository_is_not_opened_by_a_scrape(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), kv=MemoryKv())
    text = render_app_metrics(state_of(app))
    assert 'om_db_requests_total{backend="sqlite"} 0.0' in text
    assert state_of(app).opened_repo() is None


def test_each_app_has_its_own_registry(tmp_path: Path, app: FastAPI, client: TestClient) -> None:
    other = create_app(make_settings(tmp_path / "other"), kv=MemoryKv())
    client.get("/api/health")
    https_client(other).get("/api/health")
    https_client(other).get("/api/health")
    labels = {"method": "GET", "route": "/api/health", "status": "2xx"}
    assert _sample(app, "om_http_requests_total", **labels) == 1
    assert _sample(other, "om_http_requests_total", **labels) == 2
    assert REGISTRY.get_sample_value("om_http_requests_total", labels) is None
