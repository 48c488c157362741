"""The app's own Prometheus figures, in a registry each app owns (never the process default).

Counters here count what this warm function instance served since it started; Prometheus'
``rate()`` copes with the resets a serverless platform causes. Store figures are read from the
adapters' own counters at scrape time. ``render_app_metrics`` gives the exposition text; the
``/api/metrics`` route adds the fleet's gauges by registering its collector in ``registry``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from lib.errors import StoreError
from lib.http.prometheus import FleetCollector

if TYPE_CHECKING:
    from lib.http.state import AppState

log = logging.getLogger("openmanager.metrics")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The media type of ``render_app_metrics``' text."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class AppMetrics:
    """Every metric the HTTP shell and later issues increment, in one registry."""

    def __init__(self, state: AppState) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "om_http_requests", "HTTP requests served.", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "om_http_request_duration_seconds",
            "Time from request to the end of the response.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "om_rate_limited_requests", "Requests refused with 429.", ["limiter"], registry=r
        )
        self.ai_questions = Counter(
            "om_ai_questions", "Questions answered by the AI assistant.", ["engine"], registry=r
        )
        self.pushes_sent = Counter("om_push_sent", "Web Push messages delivered.", registry=r)
        self.pushes_failed = Counter("om_push_failed", "Web Push messages that failed.", registry=r)
        # The fleet first: its scrape reads the view (and the KV when stale) before the store
        # counters are read, so those count the scrape's own commands.
        r.register(FleetCollector(state))
        r.register(StoreCollector(state))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, f"{status // 100}xx").inc()
        self.latency.labels(method, route).observe(seconds)


class StoreCollector:
    """KV and database usage, read from the adapters' counters on each scrape."""

    def __init__(self, state: AppState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        kv = self._state.kv
        yield _counter("om_kv_commands", "KV commands sent.", kv.backend, kv.commands_sent)
        yield _counter("om_kv_round_trips", "KV round trips.", kv.backend, kv.round_trips)
        repo = self._state.opened_repo()
        backend = self._state.settings.db_backend
        yield _counter(
            "om_db_requests", "Database round trips.", backend, repo.requests_sent if repo else 0
        )
        yield _counter(
            "om_db_writes",
            "Database round trips that write.",
            backend,
            repo.writes_sent if repo else 0,
        )
        try:
            depth = self._state.outbox.depth()
        except StoreError as exc:
            log.warning("outbox depth unavailable: %s", exc.code)
            return
        yield GaugeMetricFamily("om_outbox_depth", "Database writes waiting in the outbox.", depth)


def _counter(name: str, documentation: str, backend: str, value: int) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["backend"])
    family.add_metric([backend], value)
    return family


def render_app_metrics(state: AppState) -> str:
    """The text exposition of ``state.metrics.registry``, of media type ``CONTENT_TYPE``."""
    return generate_latest(state.metrics.registry).decode()
