"""``/api/settings``: the runtime-adjustable settings (admin), stored in the KV.

The merge rules and the function the engine uses are in ``lib/runtime_settings.py``.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from lib.http.audit import Audit
from lib.http.auth import Principal, require
from lib.http.state import AppState, get_state
from lib.runtime_settings import (
    RuntimeSettings,
    RuntimeSettingsPatch,
    apply_patch,
    effective_settings,
    read_runtime,
    valid_overrides,
    write_runtime,
)

router = APIRouter(tags=["settings"])

State = Annotated[AppState, Depends(get_state)]
Admin = Annotated[Principal, Depends(require("admin"))]


class SettingsView(BaseModel):
    settings: RuntimeSettings = Field(description="In force: the environment plus overrides.")
    overridden: list[str] = Field(description="Fields set at runtime rather than by environment.")


def _view(state: AppState, runtime_json: str | None) -> SettingsView:
    return SettingsView(
        settings=effective_settings(state.settings, runtime_json),
        overridden=sorted(valid_overrides(runtime_json)),
    )


@router.get("/settings")
def get_settings(state: State, admin: Admin, response: Response) -> SettingsView:
    response.headers["Cache-Control"] = "no-store"
    return _view(state, read_runtime(state.kv))


@router.put("/settings")
def put_settings(
    body: RuntimeSettingsPatch, state: State, admin: Admin, audit: Audit, response: Response
) -> SettingsView:
    """Override fields (a value) or drop overrides (``null``); absent fields stay as they are."""
    stored = json.dumps(apply_patch(read_runtime(state.kv), body), sort_keys=True)
    write_runtime(state.kv, stored)
    state.engine.forget()
    audit.record("settings.update", target="settings", details=body.model_dump(exclude_unset=True))
    response.headers["Cache-Control"] = "no-store"
    return _view(state, stored)
