"""``GET /api/metrics``: the fleet's gauges and the app's own figures, for Prometheus.

The fleet's gauges come from ``lib/http/prometheus.py``'s collector, registered in the app's
registry beside the figures of ``lib/http/metrics.py``; every scrape renders them afresh.
A scrape is a read: it needs read access and lets the engine catch up. It is never cached:
each instance counts its own requests, and a scrape must see a live one.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from lib.http.metrics import CONTENT_TYPE, render_app_metrics
from lib.http.reads import Read
from lib.http.schemas.errors import error_responses

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4.",
            "content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 429, 503),
    },
)
def metrics(read: Read) -> Response:
    return Response(
        render_app_metrics(read.state),
        media_type=CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )
