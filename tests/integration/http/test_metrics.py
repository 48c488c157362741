"""The app's own Prometheus figures: per route template, from the stores, in its own registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from lib.clock import FixedClock
from lib.engine.view import fleet_view
from lib.http.app import create_app
from lib.http.metrics import CONTENT_TYPE, render_app_metrics
from lib.http.middleware import UNMATCHED_ROUTE
from lib.http.prometheus import gauge_name
from lib.sim import FAILURE_TYPES, METRICS, REGIONS, UNITS
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    assert_error,
    https_client,
    make_settings,
    state_of,
)
from tests.support.prometheus_service import check_metrics


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


# -- GET /api/metrics: the fleet's gauges beside the app's own figures --------------------


def _scrape(client: TestClient, **kwargs: Any) -> dict[str, Metric]:
    response = client.get("/api/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.headers["cache-control"] == "no-store"
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def test_the_route_serves_a_gauge_per_metric_and_server(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    families = _scrape(client)
    view = fleet_view(state_of(app).engine, clock.now())
    for m, metric in enumerate(METRICS):
        name, factor = gauge_name(metric)
        family = families[name]
        assert family.type == "gauge"
        assert f"({UNITS[metric] if factor == 1 else 's'})" in family.documentation
        assert [s.labels["server"] for s in family.samples] == list(view.fleet.ids)
        np.testing.assert_allclose(
            [s.value for s in family.samples], view.values[:, m] * factor, rtol=1e-6
        )
    assert gauge_name("response_ms") == ("om_server_response_seconds", 1e-3)
    web = next(s for s in families["om_server_cpu_pct"].samples if s.labels["server"] == "web-01")
    assert web.labels == {"server": "web-01", "role": "web", "region": web.labels["region"],
                          "env": web.labels["env"]}  # fmt: skip
    assert web.labels["region"] in REGIONS
    np.testing.assert_allclose(
        [s.value for s in families["om_server_health"].samples], view.health, rtol=1e-6
    )
    status = families["om_server_status"].samples
    assert len(status) == 4 * view.fleet.size
    for i, server in enumerate(view.fleet.ids):
        ones = [s.labels["status"] for s in status if s.labels["server"] == server and s.value]
        assert ones == [view.status_name(i)]
    assert families["om_fleet_bucket_number"].samples[0].value == view.bucket
    # The app's own figures come along: this very scrape is being counted.
    assert "om_http_requests" in families
    assert "om_kv_commands" in families


def test_alert_and_incident_counts_follow_the_engine(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    families = _scrape(client)
    assert {s.value for s in families["om_alerts_open"].samples} == {0}
    assert len(families["om_incidents_open"].samples) == len(FAILURE_TYPES) * 3
    client.post("/api/tick", headers=ADMIN)
    client.post(
        "/api/incidents",
        json={"type": "config_error", "servers": ["api-02"], "duration_s": 600},
        headers=ADMIN,
    )
    clock.advance(30)
    client.post("/api/tick", headers=ADMIN)
    families = _scrape(client)
    view = fleet_view(state_of(app).engine, clock.now())
    alerts = {
        (s.labels["level"], s.labels["state"]): s.value for s in families["om_alerts_open"].samples
    }
    assert len(alerts) == 8
    assert sum(alerts.values()) == len(view.open_alerts) > 0
    incidents = {
        (s.labels["type"], s.labels["status"]): s.value
        for s in families["om_incidents_open"].samples
    }
    assert incidents[("config_error", "active")] + incidents[("config_error", "recovering")] == 1
    assert families["om_engine_lag_buckets"].samples[0].value == 0


def test_promtool_accepts_the_exposition(client: TestClient) -> None:
    client.post("/api/tick", headers=ADMIN)
    text = client.get("/api/metrics").text
    checked = check_metrics(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_private_metrics_need_a_viewer(tmp_path: Path) -> None:
    client = https_client(create_app(make_settings(tmp_path, public_read=False), kv=MemoryKv()))
    assert_error(client.get("/api/metrics"), 401, "unauthorized")
    assert client.get("/api/metrics", headers=ADMIN).status_code == 200
