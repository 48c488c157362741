"""What probing the API as an attacker found (issue 15), each finding as the test that would have
caught it: request bodies (size, syntax, types), CORS refusals, what a 503 tells a caller."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.http.bodies import DEFAULT_LIMIT_BYTES, LIMITS_BYTES
from lib.http.errors import PUBLIC_MESSAGES
from lib.store.db import IncidentRecord
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    NOW,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
    named_fields,
    state_of,
)
from tests.support.app_server import AppServer
from tests.support.redis_service import RedisServer
from tests.support.upstash_server import UpstashServer

INJECT = {"type": "cpu_overload", "servers": ["api-02"], "duration_s": 600}
JSON = {"Content-Type": "application/json"}


# Row 8: a 10 MB anonymous body was parsed (+170 MB) before the 401.
def test_a_body_past_the_limit_is_413_before_anything_reads_it(client: TestClient) -> None:
    big = b'{"note": "' + b"x" * (DEFAULT_LIMIT_BYTES + 1) + b'"}'
    for headers in ({}, ADMIN):
        response = client.post("/api/incidents", content=big, headers={**JSON, **headers})
        error = assert_error(response, 413, "payload_too_large")
        assert error["details"] == {"limit_bytes": DEFAULT_LIMIT_BYTES}


def test_a_chunked_body_is_cut_off_at_the_limit_too(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Any:
        # Without a Content-Length the guard counts what arrives and stops reading past it.
        for _ in range(1000):
            sent.append(1)
            yield b" " * 1024

    response = client.post("/api/incidents", content=chunks(), headers={**JSON, **ADMIN})
    assert_error(response, 413, "payload_too_large")


def test_a_body_within_the_limit_is_served(client: TestClient) -> None:
    padded = '{"note": "' + "x" * 400 + '", ' + '"type": "cpu_overload", "servers": ["api-02"]}'
    assert len(padded) < DEFAULT_LIMIT_BYTES
    response = client.post("/api/incidents", content=padded, headers={**JSON, **ADMIN})
    assert response.status_code == 201, response.text


def test_mcp_takes_larger_bodies_than_the_default(client: TestClient) -> None:
    assert LIMITS_BYTES["/api/mcp"] > DEFAULT_LIMIT_BYTES
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {"_pad": "x" * (DEFAULT_LIMIT_BYTES * 2)},
    }
    response = client.post(
        "/api/mcp",
        json=message,
        headers={**ADMIN, "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 200, response.text


# Row 10: malformed JSON was a 422 with "field": "21", and came before the 401.
@pytest.mark.parametrize("raw", ['{"type": "cpu_overload",', "[[[[", "\xff\xfe{", "nope"])
def test_malformed_json_is_400_naming_the_problem(client: TestClient, raw: str) -> None:
    response = client.post(
        "/api/incidents", content=raw.encode("latin-1"), headers={**JSON, **ADMIN}
    )
    error = assert_error(response, 400, "bad_request")
    assert error["message"].startswith("the body is not valid JSON: ")
    assert error["details"] == {"in": "body"}
    assert "\x00" not in response.text


def test_authentication_comes_before_the_body(client: TestClient) -> None:
    broken = b'{"type": "cpu_overload",'
    assert_error(client.post("/api/incidents", content=broken, headers=JSON), 401, "unauthorized")
    viewer = bearer(mint_token(client, "viewer"))
    response = client.post("/api/incidents", content=broken, headers={**JSON, **viewer})
    assert_error(response, 403, "forbidden")
    invalid = {**INJECT, "duration_s": "soon"}
    assert_error(client.post("/api/incidents", json=invalid), 401, "unauthorized")


def test_an_optional_body_that_does_not_parse_is_400(client: TestClient) -> None:
    response = client.post("/api/alerts/al-x/ack", content=b"{", headers={**JSON, **ADMIN})
    assert_error(response, 400, "bad_request")


# Row 12: "duration_s": true was taken as 1 s, "60" as 60.
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INJECT, "duration_s": True}, "duration_s"),
        ({**INJECT, "duration_s": "60"}, "duration_s"),
        ({**INJECT, "duration_s": 60.0}, "duration_s"),
        ({**INJECT, "servers": "api-02"}, "servers"),
        ({**INJECT, "note": 7}, "note"),
    ],
)
def test_request_bodies_are_strictly_typed(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/incidents", json=body, headers=ADMIN)
    assert field in named_fields(assert_error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/tokens", {"name": "x", "role": "viewer", "extra": 1}, "extra"),
        ("/api/tokens", {"name": 5, "role": "viewer"}, "name"),
        ("/api/settings", {"failures_enabled": "true"}, "failures_enabled"),
        ("/api/settings", {"failure_rate_per_hour": "2"}, "failure_rate_per_hour"),
        (
            "/api/auth/users",
            {"username": "abc", "password": "p" * 12, "role": "viewer", "totp": 1},
            "totp",
        ),
    ],
)
def test_every_body_is_strict(
    client: TestClient, url: str, body: dict[str, Any], field: str
) -> None:
    method = client.put if url == "/api/settings" else client.post
    response = method(url, json=body, headers=ADMIN)
    assert field in named_fields(assert_error(response, 422, "validation_error"))


# Row 11: a refused preflight was a 400 text/plain.
def test_a_refused_preflight_has_the_json_error_shape(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://grafana.example"])
    client = https_client(create_app(settings, kv=MemoryKv()))
    response = client.options(
        "/api/tokens",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
    )
    assert response.headers["content-type"] == "application/json"
    error = assert_error(response, 400, "cors_rejected")
    assert error["details"] == {"refused": ["origin"]}
    assert "access-control-allow-origin" not in response.headers
    headers = client.options(
        "/api/tokens",
        headers={
            "Origin": "https://grafana.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-sneaky",
        },
    )
    assert assert_error(headers, 400, "cors_rejected")["details"] == {"refused": ["headers"]}


# Row 13: a 503 carried the upstream's text (it showed Redis's 127.0.0.1:<port>).
def test_a_store_outage_is_a_stable_503_with_the_details_in_the_log(
    tmp_path: Path,
    upstash_db: UpstashServer,
    redis_db: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        tmp_path,
        upstash_redis_rest_url=upstash_db.url,
        upstash_redis_rest_token=upstash_db.token,
        kv_timeout_s=2,
    )
    client = https_client(create_app(settings))
    assert client.get("/api/tokens", headers=ADMIN).status_code == 200
    with redis_db.stopped(), caplog.at_level(logging.WARNING, logger="openmanager.http"):
        response = client.get("/api/tokens", headers=ADMIN)
    assert response.status_code in (503, 504), response.status_code
    error = response.json()["error"]
    assert error["message"] == PUBLIC_MESSAGES[error["code"]]
    assert set(error["details"]) <= {"backend"}
    for leak in ("127.0.0.1", str(redis_db.port), "Error", "Connection"):
        assert leak not in response.text
    assert str(redis_db.port) in caplog.text or "Upstash" in caplog.text


# Row 5: 800 wrong bearers were 800 401s and 802 KV commands, never a 429.
def test_failed_bearers_are_limited_per_address_before_the_kv(
    tmp_path: Path, upstash_db: UpstashServer
) -> None:
    settings = make_settings(
        tmp_path,
        upstash_redis_rest_url=upstash_db.url,
        upstash_redis_rest_token=upstash_db.token,
        rate_limit_auth_failures_per_minute=5,
    )
    app = create_app(settings)
    kv = state_of(app).kv
    client = https_client(app)
    for i in range(5):
        assert_error(client.get("/api/fleet", headers=bearer(f"om_guess{i}")), 401, "unauthorized")
    before = kv.commands_sent
    for i in range(50):
        refused = client.get("/api/fleet", headers=bearer(f"om_guess{i}"))
        error = assert_error(refused, 429, "rate_limited")
        assert error["details"]["limiter"] == "auth_failures"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert kv.commands_sent == before
    # Anonymous reads from the same address are not what failed: they still answer.
    assert client.get("/api/health").status_code == 200


def test_failed_bearers_age_out_of_the_window(tmp_path: Path, clock: FixedClock) -> None:
    settings = make_settings(tmp_path, rate_limit_auth_failures_per_minute=2)
    client = https_client(create_app(settings, clock=clock, kv=MemoryKv()))
    for _ in range(2):
        assert client.get("/api/tokens", headers=bearer("om_nope")).status_code == 401
    assert_error(client.get("/api/tokens", headers=ADMIN), 429, "rate_limited")
    clock.advance(61)
    assert client.get("/api/tokens", headers=ADMIN).status_code == 200


# Row 9: 500 concurrent streams from one client were all accepted; /api/health took 14 s.
def test_open_streams_are_capped_per_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, stream_max_per_client=2)
    app = create_app(settings, kv=MemoryKv())
    slots = state_of(app).stream_slots
    with AppServer(app) as server, ExitStack() as held:
        url = f"{server.url}/api/stream"
        readers = []  # kept: a dropped line iterator closes its connection when collected
        for _ in range(2):
            stream = held.enter_context(httpx.stream("GET", url, timeout=10))
            assert stream.status_code == 200
            readers.append(stream.iter_lines())
            assert next(readers[-1]).startswith("retry:")
        assert slots.open_count("ip:127.0.0.1") == 2
        error = assert_error(httpx.get(url, timeout=10), 429, "rate_limited")
        assert error["details"] == {"retry_after_s": 60, "limit": 2, "limiter": "streams"}
        # Another client (a token) has its own slots.
        with httpx.stream("GET", url, headers=ADMIN, timeout=10) as other:
            assert other.status_code == 200
        held.close()
        # A closed stream gives its slot back.
        deadline = time.monotonic() + 10
        while slots.open_count("ip:127.0.0.1") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slots.open_count("ip:127.0.0.1") == 0
        with httpx.stream("GET", url, timeout=10) as again:
            assert again.status_code == 200


# Row 14: one self-contradicting stored incident made /api/analytics/sla a 422 for everyone.
def test_an_inconsistent_stored_incident_is_logged_and_left_out(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def stored(incident_id: str, detected_after_s: float) -> IncidentRecord:
        started = datetime.fromtimestamp(NOW - 7200, UTC)
        return IncidentRecord(
            id=incident_id,
            type="cpu_overload",
            servers=("web-01",),
            root_server="web-01",
            status="resolved",
            started_at=started,
            detected_at=started + timedelta(seconds=detected_after_s),
            resolved_at=started + timedelta(seconds=600),
            resolved_by="user:kim",
        )

    state_of(app).repo.upsert_incidents(
        [stored("inj-sound", 30), stored("inj-9648833-9baccc", -120)]
    )
    with caplog.at_level(logging.WARNING, logger="openmanager.http"):
        response = client.get("/api/analytics/sla", params={"period": "7d"})
    assert response.status_code == 200, response.text
    times = response.json()["incident_times"]
    assert (times["n_incidents"], times["n_detected"]) == (1, 1)
    assert times["mttd_s"] == 30
    assert "inj-9648833-9baccc" in caplog.text
    assert "inj-9648833-9baccc" not in response.text
