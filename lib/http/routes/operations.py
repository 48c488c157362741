"""Operator actions on the fleet, and the tick that drives the engine.

- ``POST /api/incidents``: inject a failure (operator), 201 with the incident and ``Location``;
- ``POST /api/incidents/{incident_id}/resolve``: resolve an active incident (operator);
- ``POST /api/alerts/{alert_id}/ack``: acknowledge an open alert (operator);
- ``GET|POST /api/tick``: process the buckets nobody has processed yet (``CRON_SECRET``, which
  Vercel Cron sends with a GET, or an operator).

Actions are audited and never cached. The rules, and the 404, 409 and 422 errors, belong to
``lib/engine/operator.py``. A tick is not audited: it decides nothing, repeats are idempotent,
and a pinger calling it every minute would bury the operators' entries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from lib.engine import operator
from lib.http.audit import Audit
from lib.http.auth import Principal, require, tick_access
from lib.http.reads import no_store
from lib.http.schemas.errors import ErrorBody, error_responses
from lib.http.schemas.operations import (
    AcknowledgedAlert,
    ExpectedEffect,
    InjectedIncident,
    InjectRequest,
    OperatorNote,
    ResolvedIncident,
    TickReport,
)
from lib.http.state import AppState, get_state
from lib.sim import FAILURE_TYPES, Incident

router = APIRouter(tags=["operations"])

State = Annotated[AppState, Depends(get_state)]
Operator = Annotated[Principal, Depends(require("operator"))]
OptionalNote = Annotated[OperatorNote | None, Body()]

_ACTION_ERRORS = {
    **error_responses(401, 403, 404, 409, 422, 429, 503),
    400: {"model": ErrorBody, "description": "The body is not JSON."},
}
_LOCATION = {"Location": {"description": "The incident's URL.", "schema": {"type": "string"}}}


def _at(state: AppState, bucket: int) -> datetime:
    return datetime.fromtimestamp(state.buckets.start_of(bucket), UTC)


def _injected(state: AppState, incident: Incident) -> InjectedIncident:
    end = incident.start_bucket + incident.duration_buckets
    return InjectedIncident(
        id=incident.id,
        type=incident.type,
        targets=[state.engine.fleet.ids[t] for t in incident.targets],
        start_bucket=incident.start_bucket,
        starts_at=_at(state, incident.start_bucket),
        end_bucket=end,
        ends_at=_at(state, end),
        duration_s=incident.duration_buckets * state.settings.bucket_seconds,
        expected=ExpectedEffect.of(FAILURE_TYPES[incident.type]),
    )


@router.post(
    "/incidents",
    status_code=201,
    responses={**_ACTION_ERRORS, 201: {"description": "Injected.", "headers": _LOCATION}},
)
def inject_failure(
    body: InjectRequest, state: State, who: Operator, audit: Audit, response: Response
) -> InjectedIncident:
    """Start a failure on ``servers`` from the next bucket."""
    now = state.clock.now()
    injected = _injected(
        state, operator.inject(state.engine, now, body.type, body.servers, body.duration_s)
    )
    audit.record(
        "incident.inject",
        target=injected.id,
        details={
            "type": injected.type,
            "servers": injected.targets,
            "duration_s": injected.duration_s,
            "note": body.note,
        },
    )
    no_store(response)
    response.headers["Location"] = f"/api/incidents/{injected.id}"
    return injected


@router.post("/incidents/{incident_id}/resolve", responses=_ACTION_ERRORS)
def resolve_incident(
    incident_id: str,
    state: State,
    who: Operator,
    audit: Audit,
    response: Response,
    body: OptionalNote = None,
) -> ResolvedIncident:
    """Resolve an active incident by hand: its metrics settle from the next bucket."""
    effective = operator.resolve(state.engine, state.clock.now(), incident_id, who.id)
    audit.record(
        "incident.resolve",
        target=incident_id,
        details={"effective_bucket": effective, "note": body.note if body else None},
    )
    no_store(response)
    return ResolvedIncident(
        id=incident_id,
        effective_bucket=effective,
        effective_at=_at(state, effective),
        resolved_by=who.id,
    )


@router.post("/alerts/{alert_id}/ack", responses=_ACTION_ERRORS)
def acknowledge_alert(
    alert_id: str,
    state: State,
    who: Operator,
    audit: Audit,
    response: Response,
    body: OptionalNote = None,
) -> AcknowledgedAlert:
    """Acknowledge an open alert: it stays open and its escalations go silent."""
    now = state.clock.now()
    event = operator.acknowledge_alert(state.engine, now, alert_id, who.id)
    audit.record(
        "alert.acknowledge", target=alert_id, details={"note": body.note if body else None}
    )
    no_store(response)
    return AcknowledgedAlert(
        id=alert_id,
        acknowledged_by=who.id,
        acknowledged_at=datetime.fromtimestamp(now, UTC),
        bucket=event.bucket,
    )


@router.get("/tick", responses=error_responses(401, 403, 429, 503))
@router.post("/tick", responses=error_responses(401, 403, 429, 503))
def tick(
    state: State, who: Annotated[Principal, Depends(tick_access)], response: Response
) -> TickReport:
    """Process every bucket up to now that nobody has processed yet, then send the pushes it
    recorded (and any left waiting), within ``PUSH_BUDGET_S``."""
    report = state.engine.advance(state.clock.now())
    state.push.deliver()
    no_store(response)
    return TickReport.of(report)
