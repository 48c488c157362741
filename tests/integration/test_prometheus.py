"""A real Prometheus scrapes ``/api/metrics`` of the app served over HTTP, then answers queries."""

from __future__ import annotations

from pathlib import Path

from lib.clock import FixedClock
from lib.engine.view import fleet_view
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import NOW, make_settings
from tests.support.app_server import AppServer
from tests.support.prometheus_service import PrometheusServer


def test_prometheus_stores_a_cpu_series_per_server(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    app = create_app(make_settings(tmp_path), clock=clock, kv=MemoryKv())
    with AppServer(app) as served, PrometheusServer([f"127.0.0.1:{served.port}"]) as prometheus:
        cpu = prometheus.wait_for("om_server_cpu_pct", lambda result: len(result) == 30)
        (up,) = prometheus.query('up{job="openmanager"}')
        statuses = prometheus.query("sum(om_server_status)")

    view = fleet_view(app.state.om.engine, clock.now())
    expected = dict(zip(view.fleet.ids, view.values[:, 0].tolist(), strict=True))
    by_server = {s["metric"]["server"]: s for s in cpu}
    assert set(by_server) == set(expected)
    web = by_server["web-01"]["metric"]
    assert set(web) == {"__name__", "server", "role", "region", "env", "instance", "job"}
    assert web["role"] == "web"
    for server, sample in by_server.items():
        assert float(sample["value"][1]) == expected[server]
    assert up["value"][1] == "1"
    assert float(statuses[0]["value"][1]) == 30  # one status per server
