"""The dependencies routes use: ``require(role)``, ``read_access`` and ``tick_access``.

The routes here exist only in the test: the lead's routes attach the same dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.http.auth import Principal, read_access, require, tick_access
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    CRON_SECRET,
    assert_error,
    bearer,
    cheap_passwords,
    create_user,
    https_client,
    log_in,
    make_settings,
    mint_token,
)

probe = APIRouter()


@probe.get("/probe/read")
def read(who: Annotated[Principal | None, Depends(read_access)]) -> dict[str, str | None]:
    return {"who": who.id if who else None}


@probe.post("/probe/operate")
def operate(who: Annotated[Principal, Depends(require("operator"))]) -> dict[str, str]:
    return {"who": who.id}


@probe.post("/probe/tick")
def tick(who: Annotated[Principal, Depends(tick_access)]) -> dict[str, str]:
    return {"who": who.id}


def _app(tmp_path: Path, *, public_read: bool) -> FastAPI:
    app = create_app(
        make_settings(tmp_path, public_read=public_read), clock=FixedClock(1e9), kv=MemoryKv()
    )
    app.include_router(probe, prefix="/api")
    cheap_passwords(app)
    return app


@pytest.fixture
def public(tmp_path: Path) -> TestClient:
    return https_client(_app(tmp_path, public_read=True))


@pytest.fixture
def private(tmp_path: Path) -> TestClient:
    return https_client(_app(tmp_path, public_read=False))


def test_reads_are_public_by_default(public: TestClient) -> None:
    assert public.get("/api/probe/read").json() == {"who": None}
    assert public.get("/api/probe/read", headers=ADMIN).json() == {"who": "admin-token"}


def test_private_reads_need_a_viewer_but_health_does_not(private: TestClient) -> None:
    assert_error(private.get("/api/probe/read"), 401, "unauthorized")
    viewer = bearer(mint_token(private, "viewer"))
    assert private.get("/api/probe/read", headers=viewer).status_code == 200
    assert private.get("/api/health").status_code == 200
    # The cron secret may tick, not read.
    assert_error(private.get("/api/probe/read", headers=bearer(CRON_SECRET)), 403, "forbidden")


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("operator", 200), ("admin", 200)])
def test_require_operator_by_role(public: TestClient, role: str, status: int) -> None:
    token = mint_token(public, role)  # type: ignore[arg-type]
    response = public.post("/api/probe/operate", headers=bearer(token))
    assert response.status_code == status
    if status == 403:
        error = assert_error(response, 403, "forbidden")
        assert error["details"] == {"needed": "operator", "role": "viewer"}


def test_require_without_credentials_is_401(public: TestClient) -> None:
    assert_error(public.post("/api/probe/operate"), 401, "unauthorized")


def test_tick_takes_the_cron_secret_or_an_operator(public: TestClient) -> None:
    assert public.post("/api/probe/tick", headers=bearer(CRON_SECRET)).json() == {"who": "cron"}
    operator = bearer(mint_token(public, "operator"))
    assert public.post("/api/probe/tick", headers=operator).status_code == 200
    viewer = bearer(mint_token(public, "viewer"))
    assert_error(public.post("/api/probe/tick", headers=viewer), 403, "forbidden")
    assert_error(public.post("/api/probe/tick"), 401, "unauthorized")
    assert_error(
        public.post("/api/probe/tick", headers=bearer("not-the-secret")), 401, "unauthorized"
    )
    # The cron secret is good for ticking only.
    assert_error(public.post("/api/probe/operate", headers=bearer(CRON_SECRET)), 403, "forbidden")


def test_a_session_carries_its_user_role_and_needs_csrf(public: TestClient) -> None:
    create_user(public, "olga", "operator")
    browser = log_in(public, "olga")
    assert_error(public.post("/api/probe/operate"), 403, "forbidden")
    assert public.post("/api/probe/operate", headers=browser.csrf_header).json() == {
        "who": "user:olga"
    }


def test_an_unknown_session_cookie_counts_as_no_credentials(public: TestClient) -> None:
    public.cookies.set("om_session", "forged", domain="testserver.local", path="/api")
    assert public.get("/api/probe/read").json() == {"who": None}
    assert_error(public.post("/api/probe/operate"), 401, "unauthorized")


def test_without_admin_token_setting_nothing_is_admin(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).model_copy(update={"admin_token": None})
    client = https_client(create_app(settings, kv=MemoryKv()))
    assert_error(client.get("/api/tokens", headers=ADMIN), 401, "unauthorized")
