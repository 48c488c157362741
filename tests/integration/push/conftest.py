"""A local push service over TLS (its certificate trusted through ``REQUESTS_CA_BUNDLE``), a
VAPID key pair, and an app on the embedded stores with push on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.config import Settings
from lib.http.app import create_app
from lib.push.keys import VapidKeys, generate
from lib.store.db import Repository
from lib.store.kv import Kv
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from tests.integration.http.conftest import ADMIN_TOKEN, CRON_SECRET, https_client
from tests.support.push_service import BrowserSubscription, PushService

# 2026-02-02 10:00 UTC, a weekday morning: bucket arithmetic as in production.
NOW = 1_770_026_400.0
SUBJECT = "mailto:ops@openmanager.example"
CRON = {"Authorization": f"Bearer {CRON_SECRET}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="session")
def vapid() -> VapidKeys:
    return generate(SUBJECT)


@pytest.fixture
def push_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    with PushService() as service:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", service.ca_file)
        yield service


def push_settings(tmp_path: Path, vapid: VapidKeys, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "cron_secret": CRON_SECRET,
        "sqlite_path": str(tmp_path / "openmanager.db"),
        "vapid_private_key": vapid.private_key,
        "vapid_public_key": vapid.public_key,
        "vapid_subject": vapid.subject,
        "failures_enabled": False,
        "recovery_success_rate": 1.0,
        "push_timeout_s": 2.0,
        "push_budget_s": 4.0,
    }
    return Settings(_env_file=None, **(fields | overrides))  # type: ignore[arg-type]


def push_app(
    settings: Settings, clock: FixedClock, kv: Kv | None = None, repo: Repository | None = None
) -> FastAPI:
    return create_app(settings, clock=clock, kv=kv or MemoryKv(), repo=repo)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(tmp_path: Path, vapid: VapidKeys) -> Settings:
    return push_settings(tmp_path, vapid)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqliteRepository]:
    repository = SqliteRepository(tmp_path / "history.db")
    yield repository
    repository.close()


@pytest.fixture
def client(settings: Settings, clock: FixedClock, repo: SqliteRepository) -> Iterator[TestClient]:
    with https_client(push_app(settings, clock, repo=repo)) as c:
        yield c


def subscribe(
    client: TestClient, sub: BrowserSubscription, **preferences: object
) -> dict[str, Any]:
    body = sub.to_json() | ({"preferences": preferences} if preferences else {})
    response = client.post("/api/push/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def inject(client: TestClient, failure: str, servers: list[str], duration_s: int = 240) -> str:
    response = client.post(
        "/api/incidents",
        json={"type": failure, "servers": servers, "duration_s": duration_s},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def detected_as(client: TestClient, injected_id: str) -> str:
    """The id of the engine's incident that an injected failure was found behind (the
    engine names incidents after what it saw); the injected id while none is."""
    response = client.get("/api/incidents", params={"limit": 500}, headers=ADMIN)
    assert response.status_code == 200, response.text
    for incident in response.json()["incidents"]:
        scenario = incident["scenario"] or {"incidents": []}
        if incident["diagnosis"] and injected_id in {i["id"] for i in scenario["incidents"]}:
            return str(incident["id"])
    return injected_id


def tick(client: TestClient) -> None:
    response = client.post("/api/tick", headers=CRON)
    assert response.status_code == 200, response.text
