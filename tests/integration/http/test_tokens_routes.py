"""API tokens: created by admins and shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.tokens import LAST_USED_EVERY_S, TOKENS_KEY
from tests.integration.http.conftest import (
    ADMIN,
    NOW,
    assert_error,
    bearer,
    mint_token,
    state_of,
)


def test_a_created_token_is_shown_once_and_stored_only_as_a_hash(
    app: FastAPI, client: TestClient
) -> None:
    response = client.post("/api/tokens", json={"name": "grafana", "role": "viewer"}, headers=ADMIN)
    assert response.status_code == 201
    created = response.json()
    token = created["token"]
    assert token.startswith("om_")
    assert len(token) > 40
    assert (created["name"], created["role"], created["created_by"]) == (
        "grafana",
        "viewer",
        "admin-token",
    )
    stored = state_of(app).kv.hgetall(TOKENS_KEY)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert list(stored) == [digest]
    assert token not in stored[digest]
    assert created["id"] == digest[:16]

    listed = client.get("/api/tokens", headers=ADMIN)
    assert listed.headers["Cache-Control"] == "no-store"
    assert token not in listed.text
    assert digest not in listed.text
    assert [(t["id"], t["name"]) for t in listed.json()] == [(created["id"], "grafana")]


def test_a_token_acts_with_its_role(client: TestClient) -> None:
    viewer = bearer(mint_token(client, "viewer"))
    admin = bearer(mint_token(client, "admin"))
    assert_error(client.get("/api/tokens", headers=viewer), 403, "forbidden")
    assert client.get("/api/tokens", headers=admin).status_code == 200
    new = {"name": "child", "role": "viewer"}
    assert (
        client.post("/api/tokens", json=new, headers=admin)
        .json()["created_by"]
        .startswith("token:")
    )


def test_last_used_is_recorded_at_most_every_few_minutes(
    client: TestClient, clock: FixedClock
) -> None:
    token = mint_token(client, "viewer", name="poller")
    assert client.get("/api/tokens", headers=ADMIN).json()[0]["last_used"] is None
    client.get("/api/auth/me", headers=bearer(token))
    first = client.get("/api/tokens", headers=ADMIN).json()[0]["last_used"]
    assert first is not None
    clock.advance(LAST_USED_EVERY_S / 2)
    client.get("/api/auth/me", headers=bearer(token))
    assert client.get("/api/tokens", headers=ADMIN).json()[0]["last_used"] == first
    clock.advance(LAST_USED_EVERY_S)
    client.get("/api/auth/me", headers=bearer(token))
    assert client.get("/api/tokens", headers=ADMIN).json()[0]["last_used"] != first


def test_revoked_tokens_stop_working(app: FastAPI, client: TestClient) -> None:
    token = mint_token(client, "operator")
    token_id = client.get("/api/tokens", headers=ADMIN).json()[0]["id"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert client.delete(f"/api/tokens/{token_id}", headers=ADMIN).status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert client.get("/api/tokens", headers=ADMIN).json() == []
    assert state_of(app).kv.hgetall(TOKENS_KEY) == {}
    assert_error(client.delete(f"/api/tokens/{token_id}", headers=ADMIN), 404, "not_found")


def test_token_routes_are_for_admins(client: TestClient) -> None:
    operator = bearer(mint_token(client, "operator"))
    new = {"name": "x", "role": "admin"}
    assert_error(client.post("/api/tokens", json=new), 401, "unauthorized")
    assert_error(client.post("/api/tokens", json=new, headers=operator), 403, "forbidden")
    assert_error(client.get("/api/tokens"), 401, "unauthorized")
    assert_error(client.delete("/api/tokens/abc", headers=operator), 403, "forbidden")


def test_token_input_is_validated(client: TestClient) -> None:
    for body, field in (
        ({"name": "", "role": "viewer"}, "name"),
        ({"name": "x", "role": "superuser"}, "role"),
        ({"name": "x", "role": "viewer", "extra": 1}, "extra"),
    ):
        error = assert_error(
            client.post("/api/tokens", json=body, headers=ADMIN), 422, "validation_error"
        )
        assert [p["field"] for p in error["details"]["problems"]] == [field]


def test_token_mutations_are_audited_without_the_secret(app: FastAPI, client: TestClient) -> None:
    token = mint_token(client, "viewer", name="ci")
    token_id = client.get("/api/tokens", headers=ADMIN).json()[0]["id"]
    client.delete(f"/api/tokens/{token_id}", headers=ADMIN)
    entries = {e.action: e for e in state_of(app).repo.list_audit_entries(limit=10)}
    assert sorted(entries) == ["token.create", "token.revoke"]
    assert {(e.target, e.actor, e.role) for e in entries.values()} == {
        (token_id, "admin-token", "admin")
    }
    assert entries["token.create"].details == {"name": "ci", "role": "viewer"}
    assert entries["token.revoke"].at.timestamp() == NOW
    assert all(token not in e.model_dump_json() for e in entries.values())
