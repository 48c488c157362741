"""``/api/servers/{id}``: detail, history with bands, logs, processes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from lib.engine.detection import detect
from lib.sim import METRIC_INDEX, METRICS, UNITS, window
from tests.integration.http.conftest import assert_error, named_fields
from tests.integration.http.fleet_world import FleetWorld, fleet_world


@pytest.fixture(scope="module")
def world() -> FleetWorld:
    return fleet_world()


@pytest.fixture(scope="module")
def client(world: FleetWorld) -> TestClient:
    return world.client()


def get(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("public, s-maxage=")
    return dict(response.json())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def test_detail_spec_readings_alerts_incidents_topology(
    client: TestClient, world: FleetWorld
) -> None:
    body = get(client, "/api/servers/api-03")
    fleet = world.engine.fleet
    i = fleet.index_of("api-03")
    assert body["spec"]["role"] == "api"
    assert body["spec"]["cores"] == int(fleet.cores[i])
    assert body["status"] == "critical"
    assert [m["metric"] for m in body["metrics"]] == list(METRICS)
    assert all(m["unit"] == UNITS[m["metric"]] for m in body["metrics"])
    memory = body["metrics"][METRIC_INDEX["memory_pct"]]
    assert memory["level"] in ("warning", "critical")
    assert memory["warning"] is not None
    assert memory["value"] >= memory["warning"]
    assert memory["label"] == {"en": "memory usage", "ko": "메모리 사용률"}
    [alert] = body["alerts"]
    assert alert["id"] == world.acknowledged_alert
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "user:kim")
    assert alert["incident_id"] == world.open
    assert [inc["id"] for inc in body["incidents"]] == [world.open]
    assert body["dependencies"] == [fleet.ids[d] for d in fleet.dependencies(i)]
    assert body["dependents"] == [fleet.ids[d] for d in fleet.dependents(i)]
    assert body["dependencies"]
    assert body["dependents"]
    assert "api-03" in body["summary"]["ko"]


def test_unknown_servers_are_404(client: TestClient) -> None:
    for url in ("/api/servers/web-99", "/api/servers/nope/history?metric=cpu_pct",
                "/api/servers/db-00/logs", "/api/servers/x/processes"):  # fmt: skip
        error = assert_error(client.get(url), 404, "not_found")
        assert "server_id" in error["details"]


def test_history_of_the_last_hour_matches_the_simulator(
    client: TestClient, world: FleetWorld
) -> None:
    body = get(client, "/api/servers/db-01/history", metric="cpu_pct", step=30)
    points = body["points"]
    assert (body["unit"], body["step_s"], body["adaptive"]) == ("%", 30, True)
    assert len(points) == 121  # an hour and the current bucket, 10 buckets a point
    buckets = world.engine.buckets
    assert points[0]["bucket"] == buckets.bucket_of(world.clock.now() - 3600)
    assert points[-1]["bucket"] == buckets.bucket_of(world.clock.now())
    fleet = world.engine.fleet
    first = points[0]["bucket"]
    raw = window(fleet, first, first + 10, world.engine.overrides(world.clock.now()),
                 servers=[fleet.index_of("db-01")])[:, 0, METRIC_INDEX["cpu_pct"]]  # fmt: skip
    assert points[0]["value"] == pytest.approx(float(raw.mean()), abs=1e-3)
    assert points[0]["max"] == pytest.approx(float(raw.max()), abs=1e-3)
    assert all(p["max"] >= p["value"] for p in points)
    assert all(p["critical"] >= p["warning"] >= p["baseline"] for p in points)


def test_history_bands_agree_with_the_detail(client: TestClient) -> None:
    now = get(client, "/api/servers/api-03")["metrics"][METRIC_INDEX["response_ms"]]
    last = get(client, "/api/servers/api-03/history", metric="response_ms", step=3)["points"][-1]
    assert last["value"] == pytest.approx(now["value"], abs=1e-3)
    assert last["warning"] == pytest.approx(now["warning"], abs=1e-3)
    assert last["baseline"] == pytest.approx(now["baseline"], abs=1e-3)


def test_history_ranges_in_both_time_forms(client: TestClient, world: FleetWorld) -> None:
    now = world.clock.now()
    by_unix = get(client, "/api/servers/web-02/history", metric="rps",
                  **{"from": now - 86_400, "to": now - 43_200})  # fmt: skip
    by_iso = get(client, "/api/servers/web-02/history", metric="rps",
                 **{"from": iso(now - 86_400), "to": iso(now - 43_200)})  # fmt: skip
    assert by_unix == by_iso
    assert len(by_unix["points"]) <= 500
    assert by_unix["start"] == iso(world.engine.buckets.start_of(
        world.engine.buckets.bucket_of(now - 86_400))).replace("+00:00", "Z")  # fmt: skip
    week = get(client, "/api/servers/web-02/history", metric="disk_pct", max_points=2000,
               **{"from": now - 7 * 86_400})  # fmt: skip
    assert 1000 < len(week["points"]) <= 2000


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "metric"),
        ({"metric": "temperature"}, "metric"),
        ({"metric": "cpu_pct", "to": "2099-01-01T00:00:00Z"}, "to"),
        (
            {"metric": "cpu_pct", "from": "2026-01-21T10:00:00Z", "to": "2026-01-21T09:00:00Z"},
            "from",
        ),
        ({"metric": "cpu_pct", "from": "2026-01-01T00:00:00Z"}, "from"),
        ({"metric": "cpu_pct", "step": 2}, "step"),
        ({"metric": "cpu_pct", "step": 0}, "step"),
        ({"metric": "cpu_pct", "step": 3, "from": "2026-01-20T10:00:00Z"}, "step"),
        ({"metric": "cpu_pct", "max_points": 2001}, "max_points"),
        # Issue 15 row 1: a step past the longest range took seconds and gigabytes, or a 500.
        ({"metric": "cpu_pct", "step": 7 * 86_400 + 1}, "step"),
        ({"metric": "cpu_pct", "step": 300_000_000}, "step"),
        ({"metric": "cpu_pct", "step": "99999999999999999999999999"}, "step"),
        ({"metric": "cpu_pct", "from": "yesterday"}, "from"),
    ],
)
def test_history_input_is_checked(client: TestClient, params: dict[str, Any], field: str) -> None:
    error = assert_error(
        client.get("/api/servers/db-01/history", params=params), 422, "validation_error"
    )
    assert field in named_fields(error)


def test_a_step_longer_than_the_range_is_one_point_of_the_whole_range(
    client: TestClient, world: FleetWorld
) -> None:
    bucket_s = world.engine.fleet.bucket_seconds
    hour = get(client, "/api/servers/web-01/history", metric="cpu_pct", step=bucket_s)
    week = get(client, "/api/servers/web-01/history", metric="cpu_pct", step=7 * 86_400)
    assert (week["start"], week["end"]) == (hour["start"], hour["end"])
    [point] = week["points"]
    values = [p["value"] for p in hour["points"]]
    assert point["value"] == pytest.approx(sum(values) / len(values), abs=1e-3)
    assert point["max"] == max(p["max"] for p in hour["points"])
    assert week["step_s"] == len(values) * bucket_s


def test_logs_newest_first_filtered_and_paged(client: TestClient, world: FleetWorld) -> None:
    everything = get(client, "/api/servers/api-03/logs", limit=500)
    entries = everything["entries"]
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert everything["next_cursor"] is None
    # Log lines carry the simulator's label, the id in the open incident's scenario.
    scenario = get(client, f"/api/incidents/{world.open}")["scenario"]
    assert any(e["incident_id"] == scenario["incidents"][0]["id"] for e in entries)
    warnings = get(client, "/api/servers/api-03/logs", level="WARN,ERROR", limit=500)["entries"]
    assert warnings
    assert {e["level"] for e in warnings} <= {"WARN", "ERROR"}
    assert len(warnings) == sum(e["level"] != "INFO" for e in entries)
    paged, cursor = [], None
    while True:
        page = get(client, "/api/servers/api-03/logs", limit=7,
                   **({"cursor": cursor} if cursor else {}))  # fmt: skip
        paged += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == entries


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "1.2.-3"}, "cursor"),
        ({"cursor": "0.999999999.0"}, "cursor"),
        # Issue 15 row 2: a cursor outside the dates Python can name was a 500.
        ({"cursor": "-999999999999999999.-999999999999971199.0"}, "cursor"),
        ({"cursor": "-99999999999999.-99999999999000.0"}, "cursor"),
        ({"level": "DEBUG"}, "level.0"),
        ({"from": "2026-01-19T00:00:00Z"}, "from"),
        ({"limit": 501}, "limit"),
    ],
)
def test_log_input_is_checked(client: TestClient, params: dict[str, Any], field: str) -> None:
    error = assert_error(
        client.get("/api/servers/db-01/logs", params=params), 422, "validation_error"
    )
    assert field in named_fields(error)


def test_processes_add_up_to_the_server(client: TestClient, world: FleetWorld) -> None:
    body = get(client, "/api/servers/db-01/processes")
    cpu = [p["cpu_pct"] for p in body["processes"]]
    assert cpu == sorted(cpu, reverse=True)
    detail = get(client, "/api/servers/db-01")["metrics"]
    assert body["cpu_pct"] == pytest.approx(detail[METRIC_INDEX["cpu_pct"]]["value"], abs=0.01)
    assert body["memory_pct"] == pytest.approx(
        detail[METRIC_INDEX["memory_pct"]]["value"], abs=0.01
    )
    past = get(client, "/api/servers/db-01/processes", at=world.clock.now() - 3600)
    assert past["bucket"] == body["bucket"] - 1200
    future = client.get("/api/servers/db-01/processes", params={"at": world.clock.now() + 60})
    assert assert_error(future, 422, "validation_error")["details"]["field"] == "at"


def test_history_is_the_detectors_view_not_a_guess(world: FleetWorld) -> None:
    """The route's bands are the ones the engine scores with (spot check of a past bucket)."""
    client = world.client()
    now = world.clock.now()
    body = get(client, "/api/servers/web-02/history", metric="cpu_pct", step=3,
               **{"from": now - 600, "to": now - 300})  # fmt: skip
    b = body["points"][0]["bucket"]
    det = detect(world.engine.fleet, world.engine.overrides(now), b, b + 1)
    series = world.engine.fleet.index_of("web-02") * len(METRICS) + METRIC_INDEX["cpu_pct"]
    assert body["points"][0]["warning"] == pytest.approx(
        float(np.round(det.warn_upper[0, series], 4)), abs=1e-4
    )
