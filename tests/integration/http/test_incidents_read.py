"""``GET /api/incidents`` and ``/api/incidents/{id}``: tracked, stored and injected incidents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.engine.view import fleet_view
from lib.http.app import create_app
from lib.sim import incidents_between
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    assert_error,
    https_client,
    make_settings,
    named_fields,
    state_of,
)
from tests.integration.http.fleet_world import START, FleetWorld, fleet_world


@pytest.fixture(scope="module")
def world() -> FleetWorld:
    return fleet_world()


@pytest.fixture(scope="module")
def client(world: FleetWorld) -> TestClient:
    return world.client()


def incidents(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/incidents", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("public, s-maxage=")
    body = response.json()
    assert body["count"] == len(body["incidents"])
    return list(body["incidents"])


def test_open_past_and_injected_incidents_newest_first(
    client: TestClient, world: FleetWorld
) -> None:
    found = incidents(client)
    # The leak began first: it climbs for tens of minutes while the config error comes and goes.
    assert [i["id"] for i in found] == [world.injected, world.closed, world.open]
    injected, closed, still_open = found
    assert (injected["status"], injected["open"], injected["injected"]) == ("injected", True, True)
    assert injected["detected_at"] is None
    assert injected["servers"] == ["db-02"]
    assert injected["planned_end_at"] > injected["started_at"]
    assert still_open["status"] in ("active", "recovering", "escalated")
    assert still_open["open"]
    assert still_open["root_server"] == "api-03"
    assert world.acknowledged_alert in still_open["alerts"]
    events = [step["event"] for step in still_open["timeline"]]
    korean = [step["reason"]["ko"] for i in found for step in i["timeline"]]
    assert all(re.search("[가-힣]", text) for text in korean), korean
    unquoted = [re.sub(r'"[^"]*"', "", text) for text in korean]  # log lines stay verbatim
    assert not [text for text in unquoted if re.search("[a-z]+_[a-z]+", text)], "ids in Korean"
    assert events[:2] == ["started", "detected"]
    assert still_open["detected_bucket"] >= still_open["started_bucket"]
    # What the engine concluded, apart from what the simulator did.
    diagnosis = still_open["diagnosis"]
    assert diagnosis["type"] == still_open["type"] == "memory_leak"
    assert diagnosis["root_server"] == "api-03"
    assert "memory_pct" in {m["metric"] for m in diagnosis["evidence"]["metrics"]}
    assert diagnosis["summary"]["ko"]
    assert still_open["summary"]["ko"].startswith("api-03 메모리 누수 (서버 1대)")
    assert all("_" not in i["summary"]["ko"] for i in found), "types named, not ids"
    assert diagnosis["attempts"]
    assert 0 < diagnosis["confidence"] <= 1
    assert still_open["scenario"]["source"] == "simulator ground truth"
    assert still_open["scenario"]["incidents"][0]["targets"] == ["api-03"]
    assert injected["diagnosis"] is None
    assert injected["scenario"]["incidents"][0]["id"] == world.injected
    assert (closed["status"], closed["open"]) == ("resolved", False)
    assert closed["resolved_by"] == "self"
    assert closed["timeline"][-1]["event"] == "closed"
    assert closed["description"]["ko"]
    assert "web-02" in closed["summary"]["en"]


def test_filters(client: TestClient, world: FleetWorld) -> None:
    assert [i["id"] for i in incidents(client, status="injected")] == [world.injected]
    assert [i["id"] for i in incidents(client, status="resolved")] == [world.closed]
    both = incidents(client, status=["injected", "resolved"])
    assert [i["id"] for i in both] == [world.injected, world.closed]
    assert [i["id"] for i in incidents(client, type="memory_leak")] == [world.open]
    assert [i["id"] for i in incidents(client, server="web-02")] == [world.closed]
    assert [i["id"] for i in incidents(client, limit=1)] == [world.injected]
    # The engine dates an incident from the onset it observed: the leak's (a slow climb)
    # comes before the closed config error's.
    start = {i["id"]: i for i in incidents(client)}[world.closed]["started_at"]
    assert [i["id"] for i in incidents(client, **{"from": start})] == [
        world.injected,
        world.closed,
    ]
    assert [i["id"] for i in incidents(client, to=start)] == [world.open]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status.0"),
        ({"type": "meteor_strike"}, "type"),
        ({"limit": 0}, "limit"),
        ({"from": "soon"}, "from"),
        ({"server": "web-99"}, "server"),
    ],
)
def test_invalid_filters_name_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    error = assert_error(client.get("/api/incidents", params=params), 422, "validation_error")
    assert field in named_fields(error)


def test_detail_with_its_open_alerts(client: TestClient, world: FleetWorld) -> None:
    response = client.get(f"/api/incidents/{world.open}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.open
    [alert] = [a for a in body["open_alerts"] if a["id"] == world.acknowledged_alert]
    assert alert["acknowledged_by"] == "user:kim"
    assert alert["value"] is not None
    stored = client.get(f"/api/incidents/{world.closed}").json()
    assert (stored["status"], stored["open_alerts"]) == ("resolved", [])
    # Issue 15 row 3: a closed incident kept no alerts; they are stored with it now.
    history = client.get("/api/alerts", params={"incident": world.closed}).json()["alerts"]
    assert history
    assert "web-02" in {a["server"] for a in history}  # and whatever its cascade reached
    assert {a["incident_id"] for a in history} == {world.closed}
    assert {a["state"] for a in history} == {"resolved"}
    assert sorted(stored["alerts"]) == sorted(a["id"] for a in history)
    injected = client.get(f"/api/incidents/{world.injected}").json()
    assert injected["status"] == "injected"


def test_unknown_is_a_type_one_may_filter_on(client: TestClient) -> None:
    assert incidents(client, type="unknown") == []


def test_unknown_incident_is_404(client: TestClient) -> None:
    error = assert_error(client.get("/api/incidents/inc-1-1"), 404, "not_found")
    assert error["details"] == {"incident_id": "inc-1-1"}


def test_scheduled_incidents_stay_hidden_until_detected(tmp_path: Path) -> None:
    """The simulator's own incidents act on metrics, but nobody could know of them yet."""
    app = create_app(make_settings(tmp_path), clock=FixedClock(START), kv=MemoryKv())
    with https_client(app) as client:
        fleet = client.get("/api/fleet").json()
        view = fleet_view(state_of(app).engine, START)
        acting = incidents_between(view.fleet, view.bucket, view.bucket + 1, view.overrides)
        assert acting  # the seeded schedule has one acting now
        assert not view.tracked_incidents
        assert incidents(client) == []
        assert fleet["summary"]["active_incidents"] == 0
        for incident in acting:
            assert_error(client.get(f"/api/incidents/{incident.id}"), 404, "not_found")
