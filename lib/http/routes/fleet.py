"""``GET /api/fleet``: every server now, filtered, sorted and paged, with a fleet summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lib.http.reads import Read
from lib.http.schemas.errors import error_responses
from lib.http.schemas.fleet import FleetPage, FleetQuery, fleet_page

router = APIRouter(tags=["fleet"])


@router.get("/fleet", responses=error_responses(401, 403, 422, 429, 503))
def get_fleet(read: Read, query: Annotated[FleetQuery, Query()]) -> FleetPage:
    """Current metrics, status and health of each server, and the fleet's summary."""
    return fleet_page(read, query)
