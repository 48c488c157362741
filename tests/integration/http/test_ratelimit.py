"""Rate limits on both KV adapters: 429 with Retry-After, per client, and one algorithm.

The Upstash side runs through the real upstash-ratelimit → UpstashKv → the Upstash REST
server in tests/support → a real redis-server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from upstash_ratelimit.limiter import SlidingWindow as UpstashScript

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.store.factory import open_limiters
from lib.store.limiters import LIMITS, KvSlidingWindow, Limit
from lib.store.memory_kv import MemoryKv
from lib.store.upstash_kv import UpstashKv
from tests.integration.http.conftest import (
    ADMIN,
    assert_error,
    bearer,
    cheap_passwords,
    https_client,
    make_settings,
    mint_token,
    state_of,
)
from tests.support.upstash_server import UpstashServer

WRONG = {"username": "nobody", "password": "not the password"}


def _limit(app: FastAPI, **limits: Limit) -> None:
    """Swap in smaller limits (same algorithm, same KV) so a test need not send 600 requests."""
    state = state_of(app)
    state.limiters = open_limiters(state.kv, state.clock, {**LIMITS, **limits})


def _from(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


@pytest.fixture
def proxied(tmp_path: Path, clock: FixedClock) -> TestClient:
    """An app behind a proxy it trusts (as on Vercel): X-Forwarded-For names the client."""
    settings = make_settings(tmp_path, trusted_proxies=["*"])
    return https_client(cheap_passwords(create_app(settings, clock=clock, kv=MemoryKv())))


def test_login_is_limited_per_address(proxied: TestClient, clock: FixedClock) -> None:
    client = proxied
    for _ in range(LIMITS["login"].max_requests):
        assert (
            client.post("/api/auth/login", json=WRONG, headers=_from("198.51.100.1")).status_code
            == 401
        )
    refused = client.post("/api/auth/login", json=WRONG, headers=_from("198.51.100.1"))
    error = assert_error(refused, 429, "rate_limited")
    # The fixed clock sits on a window boundary: the window ends in exactly 60 s.
    assert refused.headers["Retry-After"] == "60"
    assert error["details"] == {"retry_after_s": 60, "limit": 10, "limiter": "login"}
    # Another address has its own budget.
    assert (
        client.post("/api/auth/login", json=WRONG, headers=_from("198.51.100.2")).status_code == 401
    )
    # A window later the previous one still weighs fully; two windows later it is gone.
    clock.advance(60)
    assert_error(
        client.post("/api/auth/login", json=WRONG, headers=_from("198.51.100.1")),
        429,
        "rate_limited",
    )
    clock.advance(60)
    assert (
        client.post("/api/auth/login", json=WRONG, headers=_from("198.51.100.1")).status_code == 401
    )


def test_forwarding_headers_from_an_untrusted_peer_do_not_pick_the_key(
    client: TestClient,
) -> None:
    # Issue 15 row 6: 14 logins, each "from" another address, were never limited.
    for i in range(LIMITS["login"].max_requests):
        response = client.post("/api/auth/login", json=WRONG, headers=_from(f"203.0.113.{i}"))
        assert response.status_code == 401
    for header in ("X-Forwarded-For", "X-Real-IP"):
        refused = client.post("/api/auth/login", json=WRONG, headers={header: "203.0.113.99"})
        assert_error(refused, 429, "rate_limited")


def test_anonymous_reads_are_limited_whatever_the_headers_say(app: FastAPI) -> None:
    _limit(app, api=Limit(3, 60))
    client = https_client(app)
    for i in range(3):
        assert client.get("/api/docs", headers=_from(f"203.0.113.{i}")).status_code == 200
    assert_error(client.get("/api/docs", headers=_from("203.0.113.9")), 429, "rate_limited")


def test_the_general_limit_counts_per_client(app: FastAPI, client: TestClient) -> None:
    _limit(app, api=Limit(3, 60))
    token = bearer(mint_token(client, "viewer"))  # admin's first request
    for _ in range(3):
        assert client.get("/api/auth/me", headers=token).status_code == 200
    limited = client.get("/api/auth/me", headers=token)
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    # The admin token and anonymous callers are other clients.
    assert client.get("/api/tokens", headers=ADMIN).status_code == 200
    assert client.get("/api/health").status_code == 200
    metrics = state_of(app).metrics.registry
    assert metrics.get_sample_value("om_rate_limited_requests_total", {"limiter": "api"}) == 1


@pytest.fixture
def upstash_kv(upstash_db: UpstashServer) -> Iterator[UpstashKv]:
    kv = UpstashKv(upstash_db.url, upstash_db.token, timeout_s=2.0)
    yield kv
    kv.close()


@pytest.fixture
def upstash_app(tmp_path: Path, upstash_kv: UpstashKv) -> FastAPI:
    app = cheap_passwords(create_app(make_settings(tmp_path), kv=upstash_kv))
    # A day-long window: a wall-clock window boundary cannot fall inside the test.
    _limit(app, login=Limit(3, 86_400, per="ip"))
    return app


def test_login_is_limited_on_upstash(upstash_app: FastAPI, upstash_kv: UpstashKv) -> None:
    client = https_client(upstash_app)
    for _ in range(3):
        assert client.post("/api/auth/login", json=WRONG).status_code == 401
    before = upstash_kv.commands_sent
    refused = client.post("/api/auth/login", json=WRONG)
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 86_400
    # The limiter's script went through the adapter, so Upstash's bill is counted.
    assert upstash_kv.commands_sent > before
    keys = upstash_kv.pipeline([("KEYS", "om:rl:login:*")])[0]
    assert isinstance(keys, list)
    assert keys
    assert all(":ip:unknown:" in k for k in keys)


def test_an_unreachable_kv_lets_requests_through(
    upstash_app: FastAPI, upstash_db: UpstashServer, caplog: pytest.LogCaptureFixture
) -> None:
    upstash_db.fail(status=503, body="down")
    with caplog.at_level(logging.WARNING, logger="openmanager.ratelimit"):
        state_of(upstash_app).limiters.check("api", "ip:198.51.100.7")
    upstash_db.heal()
    assert "rate limit api skipped: store_unavailable" in caplog.text


def test_anonymous_reads_are_limited_per_instance_at_no_kv_cost(
    upstash_app: FastAPI, upstash_kv: UpstashKv
) -> None:
    _limit(upstash_app, api=Limit(3, 60))
    client = https_client(upstash_app)
    before = upstash_kv.commands_sent
    for _ in range(3):
        assert client.get("/api/docs").status_code == 200
    assert_error(client.get("/api/docs"), 429, "rate_limited")
    assert upstash_kv.commands_sent == before


def _lua(kv: UpstashKv, prefix: str, now_ms: int, limit: Limit) -> int:
    """upstash-ratelimit's sliding-window script, run on Redis with a chosen ``now``."""
    window_ms = limit.window_s * 1000
    window = now_ms // window_ms
    (reply,) = kv.pipeline(
        [
            (
                "EVAL",
                UpstashScript.SCRIPT,
                2,
                f"{prefix}:{window}",
                f"{prefix}:{window - 1}",
                limit.max_requests,
                now_ms,
                window_ms,
                1,
            )
        ]
    )
    assert isinstance(reply, int), reply
    return reply


# One KV for every example is fine: each example limits its own fresh identifier.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    max_requests=st.integers(1, 5),
    steps_ms=st.lists(st.integers(0, 1_500), min_size=1, max_size=25),
)
def test_the_mirror_answers_as_the_upstash_script(
    upstash_kv: UpstashKv, max_requests: int, steps_ms: list[int]
) -> None:
    limit = Limit(max_requests, 1)
    identifier = uuid.uuid4().hex
    clock = FixedClock(1_800_000_000.0)
    mirror = KvSlidingWindow(MemoryKv(), clock, "mirror", limit)
    for step in steps_ms:
        clock.advance(step / 1000)
        decision = mirror.hit(identifier)
        remaining = _lua(upstash_kv, f"lua:{identifier}", int(clock.now() * 1000), limit)
        assert decision.allowed == (remaining >= 0)
        assert decision.remaining == max(0, remaining)
