"""``/api/servers/{id}``: one server now, its metric history, its logs and its processes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from lib.engine.history import metric_history
from lib.http.degraded import history
from lib.http.reads import Read
from lib.http.schemas.errors import error_responses
from lib.http.schemas.servers import (
    HISTORY_MAX_S,
    HOUR_S,
    HistoryQuery,
    LogsQuery,
    ProcessesQuery,
    ServerDetail,
    ServerHistory,
    ServerLogs,
    ServerProcesses,
    history_step,
    log_range,
    server_detail,
    server_history,
    server_logs,
    server_processes,
)
from lib.sim import METRIC_INDEX, logs, processes

router = APIRouter(tags=["servers"])

ServerPath = Annotated[str, Path(max_length=32, description="Server id.", examples=["db-01"])]
ERRORS = error_responses(401, 403, 404, 422, 429, 503)


@router.get("/servers/{server_id}", responses=ERRORS)
def get_server(read: Read, server_id: ServerPath, response: Response) -> ServerDetail:
    """Spec, metrics with units and thresholds, open alerts and incidents, topology."""
    server = read.server_index(server_id)
    records = history(
        response,
        "alert history",
        lambda: read.state.repo.list_alerts(
            server_id=server_id, states=["firing", "acknowledged"], limit=100
        ),
        [],
    )
    return server_detail(read, server, records)


@router.get("/servers/{server_id}/history", responses=ERRORS)
def get_history(
    read: Read, server_id: ServerPath, query: Annotated[HistoryQuery, Query()]
) -> ServerHistory:
    """One metric over a range (default the last hour, at most 7 days), downsampled, with the
    detector's bands at each point."""
    server = read.server_index(server_id)
    b0, b1 = read.bucket_range(query.from_, query.to, default_s=HOUR_S, max_s=HISTORY_MAX_S)
    step = history_step(query, b0, b1, read.fleet.bucket_seconds)
    adaptive = read.state.settings.adaptive_thresholds
    metric = METRIC_INDEX[query.metric]
    found = metric_history(
        read.fleet, read.overrides, server, metric, b0, b1, step, adaptive=adaptive
    )
    return server_history(read, server, query.metric, found, adaptive)


@router.get("/servers/{server_id}/logs", responses=ERRORS)
def get_logs(read: Read, server_id: ServerPath, query: Annotated[LogsQuery, Query()]) -> ServerLogs:
    """Log lines, newest first, over at most a day (default the last hour)."""
    server = read.server_index(server_id)
    span = log_range(read, query)
    lines = logs(read.fleet, server, span[0], span[1], read.overrides)
    return server_logs(read, server, lines, query, span)


@router.get("/servers/{server_id}/processes", responses=ERRORS)
def get_processes(
    read: Read, server_id: ServerPath, query: Annotated[ProcessesQuery, Query()]
) -> ServerProcesses:
    """Top processes now (or ``at`` a past instant), busiest CPU first."""
    server = read.server_index(server_id)
    bucket = read.bucket if query.at is None else read.bucket_at(query.at, field="at")
    found = processes(read.fleet, server, bucket, read.overrides)
    return server_processes(read, server, bucket, found)
