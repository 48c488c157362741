"""``GET /api/fleet``: every server now, filtered, sorted and paged, with a fleet summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lib.engine.view import past_view
from lib.http.reads import Read
from lib.http.schemas.errors import error_responses
from lib.http.schemas.fleet import FleetPage, FleetQuery, fleet_page

router = APIRouter(tags=["fleet"])


@router.get("/fleet", response_model=FleetPage, responses=error_responses(401, 403, 422, 429, 503))
def get_fleet(read: Read, query: Annotated[FleetQuery, Query()], response: Response) -> Response:
    """Current metrics, status and health of each server, and the fleet's summary; with
    ``at``, the fleet as it was at that past moment."""
    if query.at is not None:
        bucket = read.past_bucket(query.at, field="at")
        past = past_view(read.engine, read.now, bucket)
        body = fleet_page(read, query, past).model_dump_json().encode()
        return Response(body, media_type="application/json", headers=dict(response.headers))
    # Every viewer of a bucket asks the same few pages: shape and serialise each once.
    body = read.view.answer(
        f"fleet?{query.model_dump_json()}",
        lambda: fleet_page(read, query).model_dump_json().encode(),
    )
    return Response(body, media_type="application/json", headers=dict(response.headers))
