"""Operator actions (inject, resolve, acknowledge) and the tick, through the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.engine.view import fleet_view
from lib.sim import incidents_between
from tests.integration.http.conftest import (
    ADMIN,
    CRON_SECRET,
    assert_error,
    bearer,
    create_user,
    log_in,
    mint_token,
    named_fields,
    state_of,
)

# A sudden failure: detected within the next tick (a CPU overload ramps over minutes).
CONFIG_ON_API_02 = {"type": "config_error", "servers": ["api-02"], "duration_s": 600}


def _inject(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/incidents", json={**CONFIG_ON_API_02, **body}, headers=headers)


def _audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    response = client.get("/api/audit", params={"action": action}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


@pytest.fixture
def operator(client: TestClient) -> dict[str, str]:
    return bearer(mint_token(client, "operator", name="ops"))


@pytest.fixture
def detected(app: FastAPI, client: TestClient, clock: FixedClock) -> str:
    """An injected incident the engine has detected, with alerts open; returns its id."""
    assert client.post("/api/tick", headers=ADMIN).json()["outcome"] == "advanced"
    incident = _inject(client, ADMIN).json()["id"]
    clock.advance(30)
    report = client.post("/api/tick", headers=ADMIN).json()
    assert report["incidents_detected"] == 1
    return str(incident)


def _open_alert(app: FastAPI, clock: FixedClock, server: str) -> str:
    view = fleet_view(state_of(app).engine, clock.now())
    return next(a.id for a in view.open_alerts if view.fleet.ids[a.server] == server)


def test_an_operator_injects_a_failure(
    app: FastAPI, client: TestClient, clock: FixedClock, operator: dict[str, str]
) -> None:
    response = _inject(client, operator, servers=["api-02", "api-02"], note="game day")
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert response.headers["Location"] == f"/api/incidents/{body['id']}"
    bucket = state_of(app).buckets.bucket_of(clock.now())
    assert body["targets"] == ["api-02"]
    assert body["start_bucket"] == bucket + 1
    assert body["end_bucket"] - body["start_bucket"] == 200  # 600 s of 3 s buckets
    assert body["starts_at"].endswith("Z")
    assert body["expected"]["key_metrics"] == ["error_pct"]
    assert body["expected"]["recovery"]["strategy"] == "rollback_config"
    assert body["expected"]["description"]["ko"]
    # The simulated world has it from the next bucket on.
    clock.advance(3)
    view = fleet_view(state_of(app).engine, clock.now())
    active = incidents_between(view.fleet, view.bucket, view.bucket + 1, view.overrides)
    assert body["id"] in {i.id for i in active}
    (entry,) = _audit(client, "incident.inject")
    assert entry["target"] == body["id"]
    assert entry["actor"].startswith("token:")
    assert entry["details"] == {
        "type": "config_error",
        "servers": ["api-02"],
        "duration_s": 600,
        "note": "game day",
    }


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"type": "meteor_strike"}, 422, "validation_error", "type"),
        ({"duration_s": 0}, 422, "validation_error", "duration_s"),
        ({"duration_s": 6 * 3600 + 1}, 422, "validation_error", "duration_s"),
        ({"servers": []}, 422, "validation_error", "servers"),
        ({"surprise": 1}, 422, "validation_error", "surprise"),
        ({"type": "database_timeout", "servers": ["web-01"]}, 422, "validation_error", "servers"),
        ({"servers": ["api-99"]}, 404, "not_found", None),
    ],
)
def test_injection_errors_name_the_field(
    client: TestClient, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    error = assert_error(_inject(client, ADMIN, **body), status, code)
    if field is not None:
        assert field in named_fields(error)


def test_only_operators_act(client: TestClient) -> None:
    viewer = bearer(mint_token(client, "viewer"))
    assert_error(_inject(client, viewer), 403, "forbidden")
    assert_error(_inject(client, {}), 401, "unauthorized")
    assert_error(_inject(client, bearer(CRON_SECRET)), 403, "forbidden")
    assert_error(client.post("/api/incidents/x/resolve", headers=viewer), 403, "forbidden")
    assert_error(client.post("/api/alerts/x/ack"), 401, "unauthorized")
    assert _audit(client, "incident.inject") == []


def test_a_dashboard_session_needs_its_csrf_token(client: TestClient) -> None:
    create_user(client, "olga", "operator")
    browser = log_in(client, "olga")
    assert_error(_inject(client, {}), 403, "forbidden")
    assert _inject(client, browser.csrf_header).status_code == 201
    assert _audit(client, "incident.inject")[0]["actor"] == "user:olga"


def test_resolving_an_incident(client: TestClient, detected: str, operator: dict[str, str]) -> None:
    response = client.post(
        f"/api/incidents/{detected}/resolve", json={"note": "rolled back"}, headers=operator
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "resolving"
    assert body["resolved_by"].startswith("token:")
    (entry,) = _audit(client, "incident.resolve")
    assert (entry["target"], entry["details"]["note"]) == (detected, "rolled back")
    assert entry["details"]["effective_bucket"] == body["effective_bucket"]
    # Without a body too; a second resolution contradicts the first.
    again = client.post(f"/api/incidents/{detected}/resolve", headers=operator)
    assert_error(again, 409, "conflict")
    unknown = client.post("/api/incidents/inj-1-abcdef/resolve", headers=operator)
    assert_error(unknown, 404, "not_found")


def test_acknowledging_an_alert(
    app: FastAPI, client: TestClient, clock: FixedClock, detected: str
) -> None:
    alert = _open_alert(app, clock, "api-02")
    response = client.post(f"/api/alerts/{alert}/ack", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() | {"acknowledged_at": None} == {
        "id": alert,
        "state": "acknowledged",
        "acknowledged_by": "admin-token",
        "acknowledged_at": None,
        "bucket": state_of(app).engine.world(clock.now()).last + 1,
    }
    states = {a.id: a.state for a in fleet_view(state_of(app).engine, clock.now()).open_alerts}
    assert states[alert] == "acknowledged"
    (entry,) = _audit(client, "alert.acknowledge")
    assert entry["target"] == alert
    too_long = client.post(f"/api/alerts/{alert}/ack", json={"note": "x" * 501}, headers=ADMIN)
    assert_error(too_long, 422, "validation_error")


@pytest.mark.parametrize("alert", ["nonsense", "al-api-02-cpu_pct-1", "al-zz-01-cpu_pct-5"])
def test_acknowledging_an_unknown_alert_is_404(client: TestClient, alert: str) -> None:
    assert_error(client.post(f"/api/alerts/{alert}/ack", headers=ADMIN), 404, "not_found")


def test_acknowledging_a_resolved_alert_is_409(
    app: FastAPI, client: TestClient, clock: FixedClock, detected: str
) -> None:
    alert = _open_alert(app, clock, "api-02")
    client.post(f"/api/incidents/{detected}/resolve", headers=ADMIN)
    clock.advance(600)
    client.post("/api/tick", headers=ADMIN)
    open_now = {a.id for a in fleet_view(state_of(app).engine, clock.now()).open_alerts}
    assert alert not in open_now
    assert_error(client.post(f"/api/alerts/{alert}/ack", headers=ADMIN), 409, "conflict")


def test_vercel_cron_ticks_with_a_get(client: TestClient, clock: FixedClock) -> None:
    cron = bearer(CRON_SECRET)
    first = client.get("/api/tick", headers=cron)
    assert first.status_code == 200, first.text
    assert first.headers["Cache-Control"] == "no-store"
    body = first.json()
    assert body["outcome"] == "advanced"
    assert body["processed"] == {
        "first_bucket": body["bucket"],
        "last_bucket": body["bucket"],
        "buckets": 1,
    }
    assert client.post("/api/tick", headers=cron).json()["outcome"] == "idle"
    clock.advance(30)
    later = client.post("/api/tick", headers=cron).json()
    assert later["processed"]["buckets"] == 10
    assert later["persisted_now"] is True
    assert _audit(client, "tick") == []


def test_ticking_needs_the_cron_secret_or_an_operator(client: TestClient) -> None:
    assert client.post("/api/tick", headers=bearer(mint_token(client, "operator"))).is_success
    viewer = bearer(mint_token(client, "viewer"))
    assert_error(client.get("/api/tick", headers=viewer), 403, "forbidden")
    assert_error(client.get("/api/tick"), 401, "unauthorized")
    assert_error(client.get("/api/tick", headers=bearer("wrong")), 401, "unauthorized")
