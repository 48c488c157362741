"""``/api/analytics/*``: SLA and budgets, correlations, trends, forecasts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from lib.sim import METRICS
from tests.integration.http.conftest import assert_error, named_fields
from tests.integration.http.fleet_world import FleetWorld, fleet_world


@pytest.fixture(scope="module")
def world() -> FleetWorld:
    return fleet_world()


@pytest.fixture(scope="module")
def client(world: FleetWorld) -> TestClient:
    return world.client()


def get(client: TestClient, route: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/analytics/{route}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("public, s-maxage=")
    return dict(response.json())


def assert_invalid(client: TestClient, route: str, params: dict[str, Any], field: str) -> None:
    response = client.get(f"/api/analytics/{route}", params=params)
    error = assert_error(response, 422, "validation_error")
    assert field in named_fields(error)


def test_sla_over_the_last_hour_from_statuses(client: TestClient) -> None:
    body = get(client, "sla", period="1h", target=0.99)
    assert (body["method"], body["target"]) == ("status", 0.99)
    servers = {s["server"]: s for s in body["servers"]}
    assert len(servers) == 30
    # The two incidents' targets went critical; nothing else did.
    assert {k for k, s in servers.items() if s["availability"] < 1} == {"web-02", "api-03"}
    assert not servers["web-02"]["met"]
    assert servers["web-02"]["downtime_s"] > 0
    mean = np.mean([s["availability"] for s in servers.values()])
    assert body["fleet"]["availability"] == pytest.approx(mean, abs=1e-6)
    assert body["fleet"]["allowed_downtime_s"] == pytest.approx(36.0)
    budget = body["error_budget"]
    assert budget["consumed_s"] == pytest.approx(body["fleet"]["downtime_s"], rel=1e-3)
    assert [b["window_s"] for b in budget["burn_rates"]] == [3600, 21600, 86400]
    times = body["incident_times"]
    # The config error, and the leak if it began within the hour (it climbs 20-180 minutes).
    assert times["n_incidents"] == times["n_detected"] == times["n_open"] + 1
    assert 0 < times["mttd_s"] < 300
    assert times["mttr_s"] is not None
    # Recovery attempts (and kim's acknowledgement), of the incidents within the hour.
    assert times["n_acknowledged"] == times["n_incidents"]
    assert "가용성" in body["summary"]["ko"]


def test_sla_over_a_week_from_incidents(client: TestClient) -> None:
    body = get(client, "sla", period="7d")
    assert body["method"] == "incidents"
    down = {s["server"] for s in body["servers"] if s["availability"] < 1}
    assert down == {"web-02", "api-03"}  # root servers of the two detected incidents
    assert body["fleet"]["met"] is (body["fleet"]["availability"] >= 0.999)
    assert get(client, "sla")["period"] == "24h"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"period": "2d"}, "period"), ({"target": 1.5}, "target")],
)
def test_sla_input_is_checked(client: TestClient, params: dict[str, Any], field: str) -> None:
    assert_invalid(client, "sla", params, field)


def test_correlations_between_a_servers_metrics(client: TestClient) -> None:
    body = get(client, "correlations", server="api-03", metrics="memory_pct,response_ms,rps")
    assert (body["mode"], body["server"]) == ("metrics", "api-03")
    assert body["labels"] == ["memory_pct", "response_ms", "rps"]
    matrix = np.array(body["matrix"])
    assert matrix.shape == (3, 3)
    assert np.allclose(matrix, matrix.T)
    assert np.all(np.abs(matrix) <= 1)
    pair = body["pairs"][0]
    assert {pair["leader"], pair["follower"]} == {"memory_pct", "response_ms"}
    assert pair["r"] > 0.9
    assert pair["summary"]["en"].endswith(f"(r=+{pair['r']:.2f})")
    everything = get(client, "correlations", server="db-01", window="15m", top=3)
    assert everything["labels"] == list(METRICS)
    assert len(everything["pairs"]) <= 3


def test_correlations_between_servers_on_one_metric(client: TestClient) -> None:
    body = get(client, "correlations", metrics="cpu_pct", window="6h", max_lag_s=120)
    assert (body["mode"], body["metric"], body["step_s"]) == ("servers", "cpu_pct", 15)
    assert len(body["labels"]) == 30
    assert all(p["lag_s"] % 15 == 0 and 0 <= p["lag_s"] <= 120 for p in body["pairs"])
    assert all(abs(p["r"]) >= 0.5 for p in body["pairs"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metrics": "cpu_pct,rps"}, "metrics"),
        ({"server": "db-42"}, "server"),
        ({"window": "2h"}, "window"),
        ({"max_lag_s": 901}, "max_lag_s"),
        ({"metrics": "cpu"}, "metrics.0"),
    ],
)
def test_correlation_input_is_checked(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    assert_invalid(client, "correlations", params, field)


def test_trends(client: TestClient) -> None:
    body = get(client, "trends")
    assert len(body["trends"]) == 30 * len(METRICS)
    assert {t["label"] for t in body["trends"]} <= {"increasing", "decreasing", "stable"}
    labels = [t["label"] for t in body["trends"]]
    assert f"{labels.count('increasing')} series increasing" in body["summary"]["en"]
    [one] = get(client, "trends", server="api-03", metric="memory_pct", window="15m")["trends"]
    assert (one["server"], one["metric"], one["unit"]) == ("api-03", "memory_pct", "%")
    assert 0 <= one["r2"] <= 1
    day = get(client, "trends", metric="disk_pct", window="24h")
    assert day["step_s"] == 60
    assert len(day["trends"]) == 30
    assert_invalid(client, "trends", {"metric": "heat"}, "metric")
    assert_invalid(client, "trends", {"server": "web-00"}, "server")


def test_forecast_of_one_server(client: TestClient, world: FleetWorld) -> None:
    body = get(client, "forecast", server="db-01", metric="cpu_pct", horizon=7200, window="1h")
    points = body["points"]
    assert 0 < len(points) <= 120
    assert all(p["lower"] <= p["mean"] <= p["upper"] for p in points)
    assert all(p["lower"] >= 0 and p["upper"] <= 100 for p in points)
    buckets = [p["bucket"] for p in points]
    now = world.engine.buckets.bucket_of(world.clock.now())
    assert buckets == sorted(buckets)
    assert buckets[0] > now
    assert buckets[-1] == now + 7200 // 3
    assert body["slope_per_hour"] is not None
    assert body["time_to_full"] == []


def test_time_to_full_of_every_disk(client: TestClient) -> None:
    body = get(client, "forecast")
    assert (body["metric"], body["server"], body["points"]) == ("disk_pct", None, [])
    full = body["time_to_full"]
    assert len(full) == 30
    assert all(t["hours"] is None or t["hours"] >= 0 for t in full)
    assert all(0 < t["disk_pct"] < 100 for t in full)
    one = get(client, "forecast", server="db-02", metric="disk_pct")
    assert [t["server"] for t in one["time_to_full"]] == ["db-02"]
    assert one["points"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "cpu_pct"}, "server"),
        ({"horizon": 10}, "horizon"),
        ({"level": 1.0}, "level"),
        ({"server": "api-03", "metric": "volume"}, "metric"),
    ],
)
def test_forecast_input_is_checked(client: TestClient, params: dict[str, Any], field: str) -> None:
    assert_invalid(client, "forecast", params, field)
