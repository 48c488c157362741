"""Every read during a PostgreSQL outage and during a Redis outage, against README's table.

A deployment as on Vercel: the Upstash REST server over redis-server, the PostgREST server over
PostgreSQL. PostgreSQL is stopped (PostgREST then answers 503), then Redis (the REST server
then answers errors). Each read answers, marked with what it lacks, or is a 503 with a stable
code and message (issue 15 rows 4 and 13); README.md "During an outage" says which.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from lib.clock import FixedClock
from lib.config import Settings
from lib.http.app import create_app
from lib.http.audit import queued_entries
from lib.http.degraded import DEGRADED_HEADER
from lib.http.errors import PUBLIC_MESSAGES
from lib.store.factory import open_repository
from tests.integration.http.conftest import ADMIN, NOW, https_client, make_settings
from tests.support.postgres_service import SERVICE_ROLE_KEY, PostgresServer
from tests.support.postgrest_server import PostgrestServer
from tests.support.redis_service import RedisServer
from tests.support.upstash_server import UpstashServer

README = Path(__file__).resolve().parents[3] / "README.md"

# Each read of the table, as a request ({incident}: the incident injected by the fixture).
READS = {
    "GET /api/health": "/api/health",
    "GET /api/fleet": "/api/fleet",
    "GET /api/servers/{id}": "/api/servers/api-02",
    "GET /api/servers/{id}/history": "/api/servers/api-02/history?metric=cpu_pct",
    "GET /api/servers/{id}/logs": "/api/servers/api-02/logs",
    "GET /api/servers/{id}/processes": "/api/servers/api-02/processes",
    "GET /api/incidents": "/api/incidents",
    "GET /api/incidents/{id}": "/api/incidents/{incident}",
    "GET /api/alerts": "/api/alerts",
    "GET /api/analytics/sla": "/api/analytics/sla?period=7d",
    "GET /api/analytics/correlations": "/api/analytics/correlations?server=api-02",
    "GET /api/analytics/trends": "/api/analytics/trends",
    "GET /api/analytics/forecast": "/api/analytics/forecast?server=api-02&metric=disk_pct",
    "GET /api/audit": "/api/audit",
    "GET /api/tokens": "/api/tokens",
    "GET /api/settings": "/api/settings",
    "GET /api/metrics": "/api/metrics",
}


@dataclass(frozen=True)
class Expected:
    status: int
    missing: tuple[str, ...] = ()
    code: str | None = None


def _cell(text: str) -> Expected:
    status = int(text.split()[0])
    code = re.search(r"`(\w+)`", text)
    missing = text.partition("missing: ")[2]
    return Expected(
        status,
        tuple(m.strip() for m in missing.split(",") if m.strip()),
        code.group(1) if code else None,
    )


def readme_table() -> dict[str, tuple[Expected, Expected]]:
    """README's "During an outage" table: read → (PostgreSQL down, Redis down)."""
    section = README.read_text().split("### During an outage", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$", section, re.M)
    return {read: (_cell(pg), _cell(redis)) for read, pg, redis in rows}


@pytest.fixture
def deployment(
    tmp_path: Path, upstash_db: UpstashServer, postgrest_db: PostgrestServer
) -> tuple[TestClient, FixedClock, str, Settings]:
    clock = FixedClock(NOW)
    settings = make_settings(
        tmp_path,
        upstash_redis_rest_url=upstash_db.url,
        upstash_redis_rest_token=upstash_db.token,
        supabase_url=postgrest_db.url,
        supabase_service_role_key=SERVICE_ROLE_KEY,
        kv_timeout_s=1,
        db_timeout_s=1,
        failures_enabled=False,
        recovery_success_rate=0.0,  # the incident stays open, its alerts firing
    )
    client = https_client(create_app(settings, clock=clock))
    for _ in range(10):  # ten minutes: the detector learns the fleet
        assert client.post("/api/tick", headers=ADMIN).status_code == 200
        clock.advance(60)
    injected = client.post(
        "/api/incidents",
        json={"type": "config_error", "servers": ["api-02"], "duration_s": 600},
        headers=ADMIN,
    )
    assert injected.status_code == 201, injected.text
    for _ in range(4):  # two minutes: detected, diagnosed, alerts stored
        clock.advance(30)
        assert client.post("/api/tick", headers=ADMIN).status_code == 200
    return client, clock, _found_behind(client, injected.json()["id"]), settings


def _found_behind(client: TestClient, injected: str) -> str:
    """The engine's incident for the injected failure (the engine names what it saw)."""
    listed = client.get("/api/incidents", params={"limit": 500}, headers=ADMIN).json()
    found = [
        i["id"]
        for i in listed["incidents"]
        if i["diagnosis"]
        and injected in {s["id"] for s in (i["scenario"] or {"incidents": []})["incidents"]}
    ]
    assert len(found) == 1, listed
    return found[0]


def test_the_table_names_every_read() -> None:
    assert set(readme_table()) == set(READS)


def _cell_of(response: Response) -> Expected:
    """What ``response`` was, as a cell of the table; a 5xx's message must be the stable one."""
    marked = tuple(m for m in response.headers.get(DEGRADED_HEADER, "").split(", ") if m)
    if marked:
        assert response.headers["cache-control"] == "no-store"
    if response.status_code < 500:
        return Expected(response.status_code, marked)
    error = response.json()["error"]
    assert error["message"] == PUBLIC_MESSAGES[error["code"]]
    assert set(error["details"]) <= {"backend"}
    return Expected(response.status_code, marked, error["code"])


def _check_all(client: TestClient, clock: FixedClock, incident: str, column: int) -> dict[str, str]:
    """Each read against its row's ``column``; returns what did not match."""
    wrong = {}
    for read, cells in readme_table().items():
        clock.advance(3)  # a new bucket: nothing is answered from this instance's cache of one
        got = _cell_of(client.get(READS[read].format(incident=incident), headers=ADMIN))
        if got != cells[column]:
            wrong[read] = f"{got} (README: {cells[column]})"
    return wrong


def test_reads_while_postgresql_is_down(
    deployment: tuple[TestClient, FixedClock, str, Settings], postgres_db: PostgresServer
) -> None:
    client, clock, incident, _ = deployment
    for url in READS.values():
        healthy = client.get(url.format(incident=incident), headers=ADMIN)
        assert (healthy.status_code, DEGRADED_HEADER.lower() in healthy.headers) == (200, False)
    postgres_db.stop()
    try:
        assert _check_all(client, clock, incident, 0) == {}
        # What the database holds is only left out: live alerts of the incident still show.
        body = client.get("/api/alerts", headers=ADMIN).json()
        assert any(a["incident_id"] == incident for a in body["alerts"]), body
    finally:
        postgres_db.start()
    assert DEGRADED_HEADER.lower() not in client.get("/api/alerts", headers=ADMIN).headers


def test_reads_while_redis_is_down(
    deployment: tuple[TestClient, FixedClock, str, Settings], redis_db: RedisServer
) -> None:
    warm, clock, incident, settings = deployment
    with redis_db.stopped():
        # A new instance (a cold start) has nothing of its own to answer from: the table.
        cold = https_client(create_app(settings, clock=clock))
        assert _check_all(cold, clock, incident, 1) == {}
        # A warm one may still answer from the world it holds; otherwise the same 503.
        for read, url in READS.items():
            response = warm.get(url.format(incident=incident), headers=ADMIN)
            if response.status_code != 200:
                assert _cell_of(response) == readme_table()[read][1], read


def test_a_kv_that_restarts_empty_closes_what_it_forgot(
    deployment: tuple[TestClient, FixedClock, str, Settings], redis_db: RedisServer
) -> None:
    # Issue 15 row 7: the open incident and its alerts stayed open in the database forever.
    client, clock, incident, _ = deployment
    before = client.get(f"/api/incidents/{incident}", headers=ADMIN).json()
    assert before["open"] is True
    assert client.get("/api/alerts", params={"state": "firing"}, headers=ADMIN).json()["count"]
    redis_db.restart()  # no persistence: it comes back empty
    clock.advance(3)
    assert client.post("/api/tick", headers=ADMIN).status_code == 200
    after = client.get(f"/api/incidents/{incident}", headers=ADMIN).json()
    assert (after["status"], after["open"], after["resolved_by"]) == ("resolved", False, "engine")
    assert "engine state lost" in after["timeline"][-1]["reason"]["en"]
    assert "엔진 상태 유실" in after["timeline"][-1]["reason"]["ko"]
    stored = client.get("/api/alerts", params={"incident": incident}, headers=ADMIN).json()
    assert stored["alerts"]
    assert {a["state"] for a in stored["alerts"]} == {"resolved"}
    firing = client.get("/api/alerts", params={"state": "firing,acknowledged"}, headers=ADMIN)
    assert all(a["fired_at"] > before["detected_at"] for a in firing.json()["alerts"])


def test_an_audit_entry_queued_during_an_outage_outlives_the_kv(
    deployment: tuple[TestClient, FixedClock, str, Settings],
    postgres_db: PostgresServer,
    redis_db: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Issue 15 row 7: queued in the outbox while PostgreSQL was down, lost with the KV.
    client, _, _, settings = deployment
    postgres_db.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="openmanager.audit"):
            created = client.post(
                "/api/tokens", json={"name": "x", "role": "viewer"}, headers=ADMIN
            )
        assert created.status_code == 201, created.text
        redis_db.restart()  # the outbox goes with it
    finally:
        postgres_db.start()
    [line] = [r.getMessage() for r in caplog.records if r.name == "openmanager.audit"]
    assert created.json()["token"] not in line
    # The log as an export shows it, with noise around: replayed into the database, once.
    export = ["2026-01-01T00:00:00Z info booting", f"2026-01-01T00:00:01Z warning {line}"] * 2
    entries, unreadable = queued_entries(export)
    listed = client.get("/api/audit", params={"action": "token.create"}, headers=ADMIN).json()
    assert all(e["target"] != created.json()["id"] for e in listed["entries"]), "lost with the KV"
    assert unreadable == []
    repo = open_repository(settings)
    repo.insert_audit_entries(entries)
    listed = client.get("/api/audit", params={"action": "token.create"}, headers=ADMIN).json()
    [entry] = [e for e in listed["entries"] if e["target"] == created.json()["id"]]
    assert (entry["actor"], entry["role"]) == ("admin-token", "admin")
