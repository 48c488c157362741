"""Every error the security layer raises has the one JSON shape, and none leaks a secret."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.store.factory import open_limiters
from lib.store.limiters import LIMITS, Limit
from tests.integration.http.conftest import (
    ADMIN_TOKEN,
    CRON_SECRET,
    PASSWORD,
    assert_error,
    bearer,
    https_client,
    mint_token,
    state_of,
)

SECRET_IN_MESSAGE = "sk-live-do-not-leak-0123456789"


def _leaky() -> None:
    raise RuntimeError(f"connection failed with key {SECRET_IN_MESSAGE} and {ADMIN_TOKEN}")


def test_a_forced_500_shows_neither_trace_nor_secret(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    app.add_api_route("/api/test-only/leak", _leaky)
    with (
        https_client(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="openmanager.http"),
    ):
        response = client.get("/api/test-only/leak", headers=bearer(ADMIN_TOKEN))
    error = assert_error(response, 500, "internal")
    assert error["message"] == "internal error"
    assert set(error["details"]) == {"request_id"}
    for leak in ("Traceback", "RuntimeError", SECRET_IN_MESSAGE, ADMIN_TOKEN, "lib/http"):
        assert leak not in response.text
    # The trace goes to the log, under the request id the client was given.
    assert error["details"]["request_id"] in caplog.text
    assert "RuntimeError" in caplog.text
    metrics = state_of(app).metrics.registry
    labels = {"method": "GET", "route": "/api/test-only/leak", "status": "5xx"}
    assert metrics.get_sample_value("om_http_requests_total", labels) == 1


def test_each_status_of_the_security_layer_has_the_shape(app: FastAPI, client: TestClient) -> None:
    viewer = bearer(mint_token(client, "viewer"))
    assert_error(client.get("/api/tokens"), 401, "unauthorized")
    assert_error(client.get("/api/tokens", headers=viewer), 403, "forbidden")
    assert_error(client.delete("/api/tokens/none", headers=bearer(ADMIN_TOKEN)), 404, "not_found")
    assert_error(
        client.post("/api/tokens", json={}, headers=bearer(ADMIN_TOKEN)), 422, "validation_error"
    )
    state = state_of(app)
    state.limiters = open_limiters(state.kv, state.clock, {**LIMITS, "api": Limit(1, 60)})
    client.get("/api/health")
    assert_error(client.get("/api/health"), 429, "rate_limited")


def test_secrets_in_requests_are_not_echoed(client: TestClient) -> None:
    wrong = client.get("/api/tokens", headers=bearer(CRON_SECRET + "x"))
    assert CRON_SECRET not in wrong.text
    login = client.post("/api/auth/login", json={"username": "u", "password": PASSWORD * 20})
    error = assert_error(login, 422, "validation_error")
    assert PASSWORD not in str(error)
