"""``/api/settings``: runtime overrides in the KV, merged over the environment."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.http.app import create_app
from lib.runtime_settings import effective_settings, read_runtime
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
    state_of,
)

DEFAULTS = {
    "failures_enabled": True,
    "failure_rate_per_hour": 2.0,
    "recovery_success_rate": 0.89,
    "auto_recovery": True,
    "notify_min_level": "warning",
    "retention_days": 30,
}


def test_without_overrides_the_environment_is_in_force(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention_days=7, auto_recovery=False)
    client = https_client(create_app(settings, kv=MemoryKv()))
    response = client.get("/api/settings", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "settings": {**DEFAULTS, "retention_days": 7, "auto_recovery": False},
        "overridden": [],
    }


def test_put_overrides_some_fields_and_leaves_the_rest(app: FastAPI, client: TestClient) -> None:
    response = client.put(
        "/api/settings",
        json={"failure_rate_per_hour": 12.5, "notify_min_level": "error"},
        headers=ADMIN,
    )
    assert response.status_code == 200
    expected = {**DEFAULTS, "failure_rate_per_hour": 12.5, "notify_min_level": "error"}
    assert response.json() == {
        "settings": expected,
        "overridden": ["failure_rate_per_hour", "notify_min_level"],
    }
    client.put("/api/settings", json={"auto_recovery": False}, headers=ADMIN)
    stored = read_runtime(state_of(app).kv)
    assert json.loads(stored or "") == {
        "auto_recovery": False,
        "failure_rate_per_hour": 12.5,
        "notify_min_level": "error",
    }
    # What the engine computes from the same KV value is what the API shows.
    engine_view = effective_settings(state_of(app).settings, stored).model_dump()
    assert client.get("/api/settings", headers=ADMIN).json()["settings"] == engine_view


def test_null_drops_an_override(client: TestClient) -> None:
    client.put("/api/settings", json={"retention_days": 90, "auto_recovery": False}, headers=ADMIN)
    response = client.put("/api/settings", json={"retention_days": None}, headers=ADMIN)
    assert response.json()["settings"]["retention_days"] == 30
    assert response.json()["overridden"] == ["auto_recovery"]


def test_invalid_values_name_the_field_and_change_nothing(app: FastAPI, client: TestClient) -> None:
    for body, field in (
        ({"recovery_success_rate": 1.5}, "recovery_success_rate"),
        ({"retention_days": 0}, "retention_days"),
        ({"notify_min_level": "loud"}, "notify_min_level"),
        ({"fleet_size": 10}, "fleet_size"),  # not adjustable at runtime
    ):
        error = assert_error(
            client.put("/api/settings", json=body, headers=ADMIN), 422, "validation_error"
        )
        assert [p["field"] for p in error["details"]["problems"]] == [field]
    assert read_runtime(state_of(app).kv) is None


def test_settings_are_for_admins(client: TestClient) -> None:
    operator = bearer(mint_token(client, "operator"))
    assert_error(client.get("/api/settings"), 401, "unauthorized")
    assert_error(client.get("/api/settings", headers=operator), 403, "forbidden")
    assert_error(
        client.put("/api/settings", json={"retention_days": 9}, headers=operator), 403, "forbidden"
    )


def test_changes_are_audited(app: FastAPI, client: TestClient) -> None:
    client.put("/api/settings", json={"failures_enabled": False}, headers=ADMIN)
    (entry,) = [
        e for e in state_of(app).repo.list_audit_entries(limit=10) if e.action == "settings.update"
    ]
    assert (entry.actor, entry.target) == ("admin-token", "settings")
    assert entry.details == {"failures_enabled": False}
