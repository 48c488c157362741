"""``GET /api/incidents`` and ``GET /api/incidents/{id}``: open and past incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from lib.errors import NotFound
from lib.http.degraded import history
from lib.http.reads import Read, Reading
from lib.http.schemas.alerts import merged_alerts
from lib.http.schemas.errors import error_responses
from lib.http.schemas.incidents import (
    IncidentDetail,
    IncidentList,
    IncidentQuery,
    IncidentShaper,
    matches,
    newest_first,
    undetected_candidates,
)
from lib.store.db import IncidentRecord

MAX_ALERTS = 500
router = APIRouter(tags=["incidents"])

IncidentPath = Annotated[str, Path(max_length=256, examples=["inc-2880-1"])]


def _records_of_injected(read: Reading, known: set[str]) -> list[IncidentRecord]:
    """Stored records of injected incidents the engine no longer tracks: one query, so an
    injected incident that was detected and closed is not shown as undetected."""
    wanted = [i for i in undetected_candidates(read) if i.id not in known]
    if not wanted:
        return []
    starts = [read.time_of(i.start_bucket) for i in wanted]
    found = read.state.repo.list_incidents(
        start=min(starts), end=max(starts) + timedelta(seconds=1), limit=1000
    )
    return [r for r in found if r.id in {i.id for i in wanted}]


@router.get("/incidents", responses=error_responses(401, 403, 422, 429, 503))
def list_incidents(
    read: Read, query: Annotated[IncidentQuery, Query()], response: Response
) -> IncidentList:
    """Open tracked incidents, stored ones and undetected injected ones, newest first."""
    if query.server is not None:
        read.server_index(query.server, field="server")
    repo = read.state.repo
    records = history(
        response,
        "incident history",
        lambda: repo.list_incidents(
            statuses=query.stored_statuses(),
            incident_type=query.type,
            server_id=query.server,
            start=query.from_,
            end=query.to,
            limit=query.limit,
        ),
        [],
    )
    known = {r.id for r in records}
    records += history(response, "incident history", lambda: _records_of_injected(read, known), [])
    found = [i for i in IncidentShaper(read).merged(records) if matches(i, query)]
    incidents = newest_first(found, query.limit)
    return IncidentList(
        bucket=read.bucket, at=read.time_of(read.bucket), count=len(incidents), incidents=incidents
    )


@router.get("/incidents/{incident_id}", responses=error_responses(401, 403, 404, 422, 429, 503))
def get_incident(read: Read, incident_id: IncidentPath, response: Response) -> IncidentDetail:
    """One incident with its timeline and its open alerts."""
    shaper = IncidentShaper(read)
    repo = read.state.repo
    record = history(response, "incident history", lambda: repo.get_incident(incident_id), None)
    found = [i for i in shaper.merged([record] if record else []) if i.id == incident_id]
    if not found:
        raise NotFound(f"no incident {incident_id!r}", incident_id=incident_id)
    incident = found[0]
    records = history(
        response,
        "alert history",
        lambda: [r for a in incident.alerts if (r := repo.get_alert(a)) is not None],
        [],
    )
    alerts = [a for a in merged_alerts(read, records) if a.id in incident.alerts]
    # Its alert history, stored with it: what stays once the incident and its group close.
    stored = history(
        response,
        "alert history",
        lambda: repo.list_alerts(incident_id=incident_id, limit=MAX_ALERTS),
        [],
    )
    ids = list(dict.fromkeys([*incident.alerts, *(r.id for r in stored)]))
    return IncidentDetail(**(incident.model_dump() | {"alerts": ids}), open_alerts=alerts)
