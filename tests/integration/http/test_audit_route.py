"""``GET /api/audit``: admins read the log, filtered by actor, action and time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    NOW,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
)


def _mutations(client: TestClient, clock: FixedClock) -> str:
    """Three audited actions, a minute apart; returns the operator token minted first."""
    operator = mint_token(client, "operator", name="first")
    clock.advance(60)
    mint_token(client, "viewer", name="second")
    clock.advance(60)
    token_id = client.get("/api/tokens", headers=ADMIN).json()[1]["id"]
    client.delete(f"/api/tokens/{token_id}", headers=ADMIN)
    return operator


def test_admins_read_the_log_newest_first(client: TestClient, clock: FixedClock) -> None:
    _mutations(client, clock)
    response = client.get("/api/audit", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    entries = response.json()["entries"]
    assert [e["action"] for e in entries] == ["token.revoke", "token.create", "token.create"]
    assert set(entries[0]) == {
        "id",
        "at",
        "actor",
        "role",
        "action",
        "target",
        "client_ip",
        "details",
    }
    assert entries[0]["client_ip"] == "unknown"  # the test client's peer is not an address


def test_filters(client: TestClient, clock: FixedClock) -> None:
    _mutations(client, clock)

    def actions(**params: str | int) -> list[str]:
        response = client.get("/api/audit", params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        return [e["action"] for e in response.json()["entries"]]

    assert actions(action="token.revoke") == ["token.revoke"]
    assert actions(actor="admin-token", limit=2) == ["token.revoke", "token.create"]
    assert actions(actor="user:nobody") == []
    since = datetime.fromtimestamp(NOW + 60, UTC).isoformat()
    assert actions(since=since) == ["token.revoke", "token.create"]
    assert actions(since=since, until=datetime.fromtimestamp(NOW + 120, UTC).isoformat()) == [
        "token.create"
    ]


def test_the_client_address_comes_from_a_trusted_proxys_headers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, trusted_proxies=["*"])
    client = https_client(create_app(settings, kv=MemoryKv()))
    client.post(
        "/api/tokens",
        json={"name": "x", "role": "viewer"},
        headers={**ADMIN, "X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
    )
    entry = client.get("/api/audit", headers=ADMIN).json()["entries"][0]
    assert entry["client_ip"] == "203.0.113.7"


def test_only_admins_read_the_log(client: TestClient) -> None:
    assert_error(client.get("/api/audit"), 401, "unauthorized")
    operator = bearer(mint_token(client, "operator"))
    assert_error(client.get("/api/audit", headers=operator), 403, "forbidden")


def test_bad_filters_name_the_parameter(client: TestClient) -> None:
    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no offset: ambiguous
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
    ):
        response = client.get("/api/audit", params=params, headers=ADMIN)
        error = assert_error(response, 422, "validation_error")
        (problem,) = error["details"]["problems"]
        assert (problem["field"], problem["in"]) == (field, "query")
