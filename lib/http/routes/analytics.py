"""``/api/analytics/*``: SLA and error budget, correlations, trends and forecasts.

Every figure is computed on request from the simulator's window ending now (or, for a week's
SLA, from recorded incidents) by ``lib.analysis``; responses carry en/ko summaries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from lib.engine.history import status_history
from lib.engine.operator import MAX_DURATION_S
from lib.errors import ValidationError
from lib.http.degraded import history
from lib.http.reads import Read, Reading
from lib.http.schemas.analytics import (
    CorrelationQuery,
    CorrelationResponse,
    ForecastQuery,
    ForecastResponse,
    TrendQuery,
    TrendResponse,
    block_means,
    correlations,
    forecast,
    trends,
    window_step,
)
from lib.http.schemas.errors import error_responses
from lib.http.schemas.incidents import IncidentShaper
from lib.http.schemas.sla import (
    PERIOD_S,
    STATUS_METHOD_MAX_S,
    SlaQuery,
    SlaResponse,
    period_buckets,
    period_spans,
    sla_response,
)
from lib.sim import METRIC_INDEX, METRICS, window

router = APIRouter(prefix="/analytics", tags=["analytics"])
ERRORS = error_responses(401, 403, 422, 429, 503)


@router.get("/sla", responses=ERRORS)
def get_sla(read: Read, query: Annotated[SlaQuery, Query()], response: Response) -> SlaResponse:
    """Availability per server and fleet against a target, error budget with burn rates,
    and MTTD/MTTA/MTTR of the period's incidents."""
    b0, b1 = period_buckets(read, query.period)
    start, end = read.time_of(b0), read.time_of(b1)
    repo = read.state.repo
    since = start - timedelta(seconds=MAX_DURATION_S)
    records = history(
        response, "incident history", lambda: repo.list_incidents(start=since, limit=2000), []
    )
    alerts = history(
        response,
        "alert history",
        lambda: repo.list_alerts(start=start, end=end, limit=5000),
        [],
    )
    incidents = [i for i in IncidentShaper(read).merged(records) if i.detected_at is not None]
    timed, down = period_spans(read, query.period, incidents, alerts)
    fine = PERIOD_S[query.period] <= STATUS_METHOD_MAX_S
    status = status_history(read.fleet, read.overrides, b0, b1) if fine else None
    return sla_response(read, query, status, timed, down)


@router.get("/correlations", responses=ERRORS)
def get_correlations(
    read: Read, query: Annotated[CorrelationQuery, Query()]
) -> CorrelationResponse:
    """Correlation matrix of one server's metrics, or of one metric across servers, with the
    strongest pairs and who leads."""
    span = window_step(read, query.window)
    if query.server is not None:
        server = read.server_index(query.server, field="server")
        metrics = query.metrics or list(METRICS)
        values = window(read.fleet, span[0], span[1], read.overrides, servers=[server])[:, 0]
        samples = block_means(values[:, [METRIC_INDEX[m] for m in metrics]], span[2])
        return correlations(read, query, samples, metrics, span, None)
    if query.metrics is not None and len(query.metrics) != 1:
        raise ValidationError("without a server, give exactly one metric", field="metrics")
    metric = (query.metrics or ["cpu_pct"])[0]
    values = window(read.fleet, span[0], span[1], read.overrides)[:, :, METRIC_INDEX[metric]]
    samples = block_means(values, span[2])
    return correlations(read, query, samples, list(read.fleet.ids), span, metric)


def _servers(read: Reading, server_id: str | None) -> list[int]:
    """The one server asked for, or the whole fleet."""
    if server_id is None:
        return list(range(read.fleet.size))
    return [read.server_index(server_id, field="server")]


@router.get("/trends", responses=ERRORS)
def get_trends(read: Read, query: Annotated[TrendQuery, Query()]) -> TrendResponse:
    """Slope per hour, r² and a label for each server and metric over the window."""
    b0, b1, step = span = window_step(read, query.window)
    servers = _servers(read, query.server)
    metrics = [query.metric] if query.metric else list(METRICS)
    values = window(read.fleet, b0, b1, read.overrides, servers=servers)
    samples = block_means(values[:, :, [METRIC_INDEX[m] for m in metrics]], step)
    series = [(read.fleet.ids[s], m) for s in servers for m in metrics]
    return trends(read, query, samples.reshape(samples.shape[0], -1), series, span)


@router.get("/forecast", responses=ERRORS)
def get_forecast(read: Read, query: Annotated[ForecastQuery, Query()]) -> ForecastResponse:
    """A server's metric ahead with its interval; for disk_pct, time to full per server
    (every server when none is given)."""
    if query.server is None and query.metric != "disk_pct":
        raise ValidationError("a server is needed except for disk_pct", field="server")
    b0, b1, step = window_step(read, query.window)
    servers = _servers(read, query.server)
    values = window(read.fleet, b0, b1, read.overrides, servers=servers)
    return forecast(read, query, servers, block_means(values, step), step)
