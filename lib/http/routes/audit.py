"""``GET /api/audit``: the audit log, newest first, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel

from lib.http.auth import Principal, require
from lib.http.schemas.fields import INSTANT_FORMS
from lib.http.state import AppState, get_state
from lib.store.db import AuditEntry

# An offset is required (a time without one is ambiguous); Unix seconds are UTC.
AuditTime = Annotated[AwareDatetime, INSTANT_FORMS]
router = APIRouter(tags=["audit"])


class AuditPage(BaseModel):
    entries: list[AuditEntry]


@router.get("/audit")
def list_audit(
    state: Annotated[AppState, Depends(get_state)],
    admin: Annotated[Principal, Depends(require("admin"))],
    response: Response,
    actor: Annotated[str | None, Query(max_length=256, description="e.g. user:alice")] = None,
    action: Annotated[str | None, Query(max_length=256, description="e.g. token.create")] = None,
    since: Annotated[AuditTime | None, Query(description="ISO 8601 with offset")] = None,
    until: Annotated[AuditTime | None, Query(description="exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    response.headers["Cache-Control"] = "no-store"
    entries = state.repo.list_audit_entries(
        actor=actor, action=action, start=since, end=until, limit=limit
    )
    return AuditPage(entries=entries)
