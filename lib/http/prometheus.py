"""The fleet in Prometheus terms: gauges rebuilt from the current view on every scrape.

``FleetCollector`` keeps nothing between scrapes (Prometheus' custom-collector model, which
suits a stateless function): each ``collect`` reads ``fleet_view`` for the app clock's bucket,
which a warm instance computes once per bucket and shares with the read routes.

Families (labels of every per-server family: ``server``, ``role``, ``region``, ``env``):

- ``om_server_<metric>``: one gauge per simulated metric, named with its unit
  (``om_server_cpu_pct``, ``om_server_rps``…); millisecond metrics in seconds
  (``om_server_response_seconds``, ``om_server_net_latency_seconds``), as ``promtool`` wants;
- ``om_server_health``: health score 0–100;
- ``om_server_status{status=…}``: 1 for the server's status, 0 for the others;
- ``om_alerts_open{level, state}``: open alerts by level and state, every pair present;
- ``om_incidents_open{type, status}``: detected incidents still open, every pair present;
- ``om_fleet_bucket_number``: the current bucket; ``om_engine_lag_buckets``: how far the
  engine's processing is behind it (a batch at most while anyone is looking).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import product
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from lib.alert_levels import ALERT_LEVELS
from lib.engine.view import fleet_view
from lib.sim import ENVIRONMENTS, FAILURE_TYPES, METRICS, REGIONS, ROLES, SERVER_STATUSES, UNITS
from lib.store.db import OPEN_INCIDENTS

if TYPE_CHECKING:
    from lib.engine.view import FleetView
    from lib.http.state import AppState
    from lib.sim import Fleet

SERVER_LABELS = ("server", "role", "region", "env")
ALERT_STATES = ("firing", "acknowledged")


def server_labels(fleet: Fleet) -> list[tuple[str, ...]]:
    """``SERVER_LABELS`` values of every server, in fleet order."""
    return [
        (sid, ROLES[role], REGIONS[region], ENVIRONMENTS[env])
        for sid, role, region, env in zip(
            fleet.ids, fleet.role.tolist(), fleet.region.tolist(), fleet.env.tolist(), strict=True
        )
    ]


class FleetCollector:
    """Gauges of the fleet at the current bucket, for ``state.metrics.registry``.

    No ``describe``: the registry then neither computes a view when the collector is
    registered nor checks its names against the app's own, which never overlap.
    """

    def __init__(self, state: AppState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        view = fleet_view(self._state.engine, self._state.clock.now())
        labels = server_labels(view.fleet)
        yield from _metric_gauges(view, labels)
        yield _health(view, labels)
        yield _status(view, labels)
        yield _alerts(view)
        yield _incidents(view)
        yield GaugeMetricFamily("om_fleet_bucket_number", "The current time bucket.", view.bucket)
        if view.processed_through is not None:
            yield GaugeMetricFamily(
                "om_engine_lag_buckets",
                "Buckets up to the current one the engine has yet to process.",
                view.bucket - view.processed_through,
            )


def gauge_name(metric: str) -> tuple[str, float]:
    """The family name of a simulated metric, and the factor from its unit to the family's.

    Milliseconds become seconds, the base unit Prometheus (and ``promtool``) insists on.
    """
    if metric.endswith("_ms"):
        return f"om_server_{metric.removesuffix('_ms')}_seconds", 1e-3
    return f"om_server_{metric}", 1.0


def _metric_gauges(view: FleetView, labels: list[tuple[str, ...]]) -> Iterator[Metric]:
    for m, metric in enumerate(METRICS):
        name, factor = gauge_name(metric)
        unit = "s" if factor != 1.0 else UNITS[metric]
        family = GaugeMetricFamily(
            name,
            f"Simulated {metric.replace('_', ' ')} of the server ({unit}).",
            labels=SERVER_LABELS,
        )
        column = (view.values[:, m].astype(float) * factor).tolist()
        for server, value in zip(labels, column, strict=True):
            family.add_metric(server, value)
        yield family


def _health(view: FleetView, labels: list[tuple[str, ...]]) -> Metric:
    family = GaugeMetricFamily(
        "om_server_health", "Health score of the server, 0 to 100.", labels=SERVER_LABELS
    )
    for server, score in zip(labels, view.health.astype(float).tolist(), strict=True):
        family.add_metric(server, score)
    return family


def _status(view: FleetView, labels: list[tuple[str, ...]]) -> Metric:
    family = GaugeMetricFamily(
        "om_server_status",
        "1 for the server's current status, 0 for the others.",
        labels=(*SERVER_LABELS, "status"),
    )
    for server, current in zip(labels, view.status.tolist(), strict=True):
        for i, name in enumerate(SERVER_STATUSES):
            family.add_metric((*server, name), 1.0 if i == current else 0.0)
    return family


def _alerts(view: FleetView) -> Metric:
    family = GaugeMetricFamily(
        "om_alerts_open", "Open alerts by level and state.", labels=("level", "state")
    )
    counts = Counter((a.level, a.state) for a in view.open_alerts)
    for pair in product(ALERT_LEVELS, ALERT_STATES):
        family.add_metric(pair, counts[pair])
    return family


def _incidents(view: FleetView) -> Metric:
    family = GaugeMetricFamily(
        "om_incidents_open",
        "Detected incidents still open, by type and status.",
        labels=("type", "status"),
    )
    counts = Counter((t.type, t.status) for t in view.tracked_incidents)
    for pair in product(FAILURE_TYPES, OPEN_INCIDENTS):
        family.add_metric(pair, counts[pair])
    return family
