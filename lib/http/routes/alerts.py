"""``GET /api/alerts``: alerts open in the engine now merged with the stored history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lib.http.degraded import history
from lib.http.reads import Read
from lib.http.schemas.alerts import AlertList, AlertQuery, matches, merged_alerts
from lib.http.schemas.errors import error_responses

router = APIRouter(tags=["alerts"])


@router.get("/alerts", responses=error_responses(401, 403, 422, 429, 503))
def list_alerts(read: Read, query: Annotated[AlertQuery, Query()], response: Response) -> AlertList:
    """Live alerts first-hand from the engine, the rest from the Repository; newest first."""
    if query.server is not None:
        read.server_index(query.server, field="server")
    records = history(
        response,
        "alert history",
        lambda: read.state.repo.list_alerts(
            states=query.state,
            levels=query.level,
            server_id=query.server,
            incident_id=query.incident,
            start=query.from_,
            end=query.to,
            limit=query.limit,
        ),
        [],
    )
    alerts = [a for a in merged_alerts(read, records) if matches(a, query)][: query.limit]
    return AlertList(
        bucket=read.bucket, at=read.time_of(read.bucket), count=len(alerts), alerts=alerts
    )
