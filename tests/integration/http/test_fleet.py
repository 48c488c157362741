"""``GET /api/fleet``: the page, its summary, filters and sorting, validation, access, caching."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.sim import METRICS, UNITS
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    NOW,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
)
from tests.integration.http.fleet_world import FleetWorld, fleet_world

READ_ROUTES = (
    "/api/fleet",
    "/api/servers/{server_id}",
    "/api/servers/{server_id}/history",
    "/api/servers/{server_id}/logs",
    "/api/servers/{server_id}/processes",
    "/api/incidents",
    "/api/incidents/{incident_id}",
    "/api/alerts",
    "/api/analytics/sla",
    "/api/analytics/correlations",
    "/api/analytics/trends",
    "/api/analytics/forecast",
)


@pytest.fixture(scope="module")
def world() -> FleetWorld:
    return fleet_world()


@pytest.fixture(scope="module")
def client(world: FleetWorld) -> TestClient:
    return world.client()


def fleet(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/fleet", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_server_with_its_metrics_and_the_summary(client: TestClient) -> None:
    body = fleet(client)
    servers = body["servers"]
    assert len(servers) == body["total"] == body["summary"]["servers"] == 30
    assert len({s["id"] for s in servers}) == 30
    assert body["units"] == dict(UNITS)
    assert all(list(s["metrics"]) == list(METRICS) for s in servers)
    summary = body["summary"]
    statuses = [s["status"] for s in servers]
    assert summary["by_status"] == {k: statuses.count(k) for k in summary["by_status"]}
    assert sum(summary["by_role"].values()) == sum(summary["by_region"].values()) == 30
    assert 0 <= summary["health"] <= 100
    # The open memory leak and the injected disk_full; the closed overload is not active.
    assert summary["active_incidents"] == 2
    assert summary["open_alerts"] == sum(s["open_alerts"] for s in servers) == 1
    api03 = next(s for s in servers if s["id"] == "api-03")
    assert (api03["status"], api03["open_alerts"]) == ("critical", 1)
    assert api03["metrics"]["memory_pct"] > 95
    assert "30" in summary["text"]["en"]
    assert "서버 30대" in summary["text"]["ko"]


def test_filters_and_search(client: TestClient) -> None:
    databases = fleet(client, role="database")
    assert databases["total"] == 5
    assert {s["role"] for s in databases["servers"]} == {"database"}
    assert databases["summary"]["servers"] == 30  # the summary is the fleet's
    critical = fleet(client, status="critical")
    assert [s["id"] for s in critical["servers"]] == ["api-03"]
    region = databases["servers"][0]["region"]
    assert {s["region"] for s in fleet(client, region=region)["servers"]} == {region}
    found = fleet(client, q="DB-0")
    assert [s["id"] for s in found["servers"]] == [f"db-0{k}" for k in range(1, 6)]
    assert fleet(client, q="production", role="cache")["total"] == sum(
        s["env"] == "production" for s in fleet(client, role="cache")["servers"]
    )
    assert fleet(client, q="nothing-like-this")["servers"] == []


def test_sorting_and_paging(client: TestClient) -> None:
    by_cpu = fleet(client, sort="cpu_pct", order="desc")["servers"]
    cpu = [s["metrics"]["cpu_pct"] for s in by_cpu]
    assert cpu == sorted(cpu, reverse=True)
    by_status = fleet(client, sort="status", order="desc")["servers"]
    assert by_status[0]["id"] == "api-03"
    healthy = [s["id"] for s in by_status if s["status"] == "healthy"]
    assert healthy == sorted(healthy)  # ties by id
    by_health = [s["health"] for s in fleet(client, sort="health")["servers"]]
    assert by_health == sorted(by_health)
    ids = [s["id"] for s in fleet(client)["servers"]]
    assert ids == sorted(ids)
    pages = [fleet(client, limit=7, page=p) for p in range(1, 6)]
    assert pages[0]["pages"] == 5
    assert [s["id"] for p in pages for s in p["servers"]] == ids
    assert len(pages[4]["servers"]) == 2
    assert fleet(client, limit=7, page=9)["servers"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"page": 0}, "page"),
        ({"sort": "colour"}, "sort"),
        ({"order": "up"}, "order"),
        ({"role": "mainframe"}, "role"),
        ({"region": "mars-1"}, "region"),
        ({"status": "sad"}, "status"),
        ({"q": "x" * 65}, "q"),
    ],
)
def test_invalid_queries_name_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    error = assert_error(client.get("/api/fleet", params=params), 422, "validation_error")
    assert [p["field"] for p in error["details"]["problems"]] == [field]


def test_public_reads_are_cached_until_the_next_bucket(world: FleetWorld) -> None:
    response = world.client().get("/api/fleet")
    to_next = world.engine.buckets.seconds_to_next_bucket(world.clock.now())
    assert response.headers["cache-control"] == f"public, s-maxage={math.ceil(to_next)}"
    bad = world.client().get("/api/fleet", headers=bearer("not-a-token"))
    assert_error(bad, 401, "unauthorized")


def test_private_reads_need_a_token_and_are_not_stored(tmp_path: Path) -> None:
    app = create_app(
        make_settings(tmp_path, public_read=False), clock=FixedClock(NOW), kv=MemoryKv()
    )
    with https_client(app) as client:
        assert_error(client.get("/api/fleet"), 401, "unauthorized")
        viewer = bearer(mint_token(client, "viewer"))
        response = client.get("/api/fleet", headers=viewer)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["summary"]["servers"] == 30


def test_openapi_describes_every_read_route(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for route in READ_ROUTES:
        responses = paths[route]["get"]["responses"]
        assert "$ref" in responses["200"]["content"]["application/json"]["schema"], route
        for status in ("401", "422", "429"):
            error = responses[status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}, (route, status)
    for route in READ_ROUTES:
        if "{" in route:
            assert "404" in paths[route]["get"]["responses"], route


def test_at_shows_the_fleet_as_it_was(client: TestClient, world: FleetWorld) -> None:
    now = fleet(client, limit=500)
    hour_ago = now["bucket"] - 3600 // 3
    by_bucket = fleet(client, at=str(hour_ago), limit=500)
    iso = by_bucket["at"].replace("+00:00", "Z")
    by_time = fleet(client, at=iso, limit=500)
    assert by_bucket["bucket"] == by_time["bucket"] == hour_ago
    assert by_bucket["servers"] == by_time["servers"]
    assert by_bucket["servers"] != now["servers"]
    # The same moment as the live page, asked as a past one, answers the same metrics.
    same = fleet(client, at=str(now["bucket"]), limit=500)
    assert [s["metrics"] for s in same["servers"]] == [s["metrics"] for s in now["servers"]]
    assert [s["status"] for s in same["servers"]] == [s["status"] for s in now["servers"]]
    # Each server's value then is what its history says for that bucket.
    history = client.get(
        "/api/servers/web-01/history",
        params={"metric": "cpu_pct", "from": iso, "to": iso.replace("Z", ".5Z"), "max_points": 10},
    ).json()
    web = next(s for s in by_bucket["servers"] if s["id"] == "web-01")
    assert history["points"][0]["bucket"] == hour_ago
    assert math.isclose(history["points"][0]["value"], web["metrics"]["cpu_pct"], abs_tol=1e-3)


def test_at_before_an_injection_does_not_count_it(client: TestClient, world: FleetWorld) -> None:
    now = fleet(client)
    before = fleet(client, at=str(now["bucket"] - 3 * 86_400 // 3))
    assert before["summary"]["active_incidents"] == 0
    assert before["summary"]["open_alerts"] == 0
    assert now["summary"]["active_incidents"] > 0


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "ISO-8601"),
        ("99999999999", "future"),
        ("2020-01-01T00:00:00Z", "older than the 30 days"),
    ],
)
def test_at_is_checked(client: TestClient, at: str, message: str) -> None:
    error = assert_error(client.get("/api/fleet", params={"at": at}), 422, "validation_error")
    assert error["details"]["field"] == "at"
    assert message in error["message"]
