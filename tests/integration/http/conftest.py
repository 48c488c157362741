"""An app on the embedded stores (MemoryKv, a SQLite file) with known secrets, and helpers
that log in and mint tokens through the API itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.config import Settings
from lib.http.app import create_app
from lib.http.credentials import Role
from lib.http.sessions import CSRF_HEADER
from lib.http.state import AppState
from lib.http.users import UserStore
from lib.store.memory_kv import MemoryKv

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
CRON_SECRET = "cron-secret-for-tests-0123456789"
PASSWORD = "correct horse battery staple"
NOW = 1_800_000_000.0


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        admin_token=ADMIN_TOKEN,
        cron_secret=CRON_SECRET,
        sqlite_path=str(tmp_path / "openmanager.db"),
        **overrides,
    )


def https_client(app: FastAPI, **kwargs: Any) -> TestClient:
    """Secure cookies travel only over HTTPS, as in production."""
    return TestClient(app, base_url="https://testserver", **kwargs)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def cheap_passwords(app: FastAPI) -> FastAPI:
    """Argon2id at its lowest cost: these tests check behaviour, not hardness."""
    state = state_of(app)
    state.users = UserStore(state.kv, state.clock, PasswordHasher(1, 8, 1))
    return app


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> FastAPI:
    return cheap_passwords(create_app(make_settings(tmp_path), clock=clock, kv=MemoryKv()))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with https_client(app) as c:
        yield c


def state_of(app: FastAPI) -> AppState:
    return app.state.om  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


def mint_token(client: TestClient, role: Role, name: str = "test") -> str:
    response = client.post("/api/tokens", json={"name": name, "role": role}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def create_user(
    client: TestClient, username: str, role: Role, *, totp: bool = False
) -> dict[str, Any]:
    response = client.post(
        "/api/auth/users",
        json={"username": username, "password": PASSWORD, "role": role, "totp": totp},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass
class Browser:
    """A logged-in dashboard: cookies in the client, the CSRF token to echo."""

    client: TestClient
    csrf: str

    @property
    def csrf_header(self) -> dict[str, str]:
        return {CSRF_HEADER: self.csrf}


def log_in(client: TestClient, username: str, **extra: str) -> Browser:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )
    assert response.status_code == 200, response.text
    return Browser(client, response.json()["csrf_token"])


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape, with this status and code; returns the error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return dict(body["error"])


def named_fields(error: dict[str, Any]) -> set[str]:
    """The fields an error names: each validation problem's, or the one a domain error gives."""
    details = error["details"]
    return {p["field"] for p in details.get("problems", [])} | {details.get("field")} - {None}
