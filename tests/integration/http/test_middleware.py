"""Security headers on every response (500s included), the docs page's own CSP, and CORS."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.http.app import create_app
from lib.http.middleware import CONTENT_SECURITY_POLICY, HSTS, SECURITY_HEADERS
from lib.http.routes.docs import SWAGGER_UI
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import ADMIN, https_client, make_settings


def _boom() -> None:
    raise RuntimeError("kaboom")


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The app plus a route that fails unexpectedly: added here, never in the app."""
    app.add_api_route("/api/test-only/boom", _boom)
    return app


def _assert_secured(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/api/openapi.json", 200),
        ("GET", "/api/nowhere", 404),
        ("POST", "/api/health", 405),
        ("GET", "/api/tokens", 401),
        ("POST", "/api/tokens", 401),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    _assert_secured(response)
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_an_unexpected_500_is_secured_too(failing_app: FastAPI) -> None:
    with https_client(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/api/test-only/boom")
    assert response.status_code == 500
    _assert_secured(response)


def test_hsts_only_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="http://testserver") as plain:
        assert "Strict-Transport-Security" not in plain.get("/api/health").headers
        behind_tls = plain.get("/api/health", headers={"X-Forwarded-Proto": "https"})
        assert behind_tls.headers["Strict-Transport-Security"] == HSTS


def test_the_policy_allows_no_inline_script_and_no_other_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_docs_allow_exactly_their_inline_script(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(scripts) == 1
    assert "SwaggerUIBundle" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'", f"{SWAGGER_UI}/", f"'sha256-{digest}'"]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in policy
    assert f'src="{SWAGGER_UI}/swagger-ui-bundle.js"' in response.text
    assert response.headers["X-Frame-Options"] == "DENY"
    # The relaxed policy is the docs page's alone.
    assert client.get("/api/openapi.json").headers["Content-Security-Policy"] == (
        CONTENT_SECURITY_POLICY
    )


def test_cors_is_closed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/tokens",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_to_the_configured_origins_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://grafana.example"])
    client = https_client(create_app(settings, kv=MemoryKv()))
    allowed = client.options(
        "/api/tokens",
        headers={
            "Origin": "https://grafana.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://grafana.example"
    assert "access-control-allow-credentials" not in allowed.headers
    response = client.get("/api/tokens", headers={**ADMIN, "Origin": "https://grafana.example"})
    assert response.headers["access-control-allow-origin"] == "https://grafana.example"
    other = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
