"""Through the API: subscribe, inject a failure, run the engine, and read what the local push
service decrypted."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.push.keys import VapidKeys
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from tests.integration.http.conftest import https_client
from tests.integration.http.test_stream import read_stream, use_timing
from tests.integration.push.conftest import (
    CRON,
    detected_as,
    inject,
    push_app,
    push_settings,
    subscribe,
    tick,
)
from tests.support.push_service import PushService

STEP_S = 15


def run_minutes(client: TestClient, clock: FixedClock, minutes: int) -> None:
    for _ in range(minutes * 60 // STEP_S):
        clock.advance(STEP_S)
        tick(client)


def incident_payloads(service: PushService, incident_id: str) -> list[dict[str, object]]:
    return [p for p in service.payloads() if p["incident_id"] == incident_id]


def test_one_decrypted_push_for_an_incident_in_the_subscribers_language(
    client: TestClient, clock: FixedClock, push_service: PushService, vapid: VapidKeys
) -> None:
    ko = push_service.subscribe(vapid.public_key)
    en = push_service.subscribe(vapid.public_key)
    subscribe(client, ko, min_level="warning", lang="ko")
    subscribe(client, en, min_level="warning", lang="en")
    tick(client)
    incident = inject(client, "cpu_overload", ["api-01"])
    run_minutes(client, clock, 8)
    incident = detected_as(client, incident)

    assert push_service.rejected == []
    for sub, lang in ((ko, "ko"), (en, "en")):
        told = [p for p in push_service.payloads(sub.endpoint) if p["incident_id"] == incident]
        assert len(told) == 1, told
        payload = told[0]
        assert payload["change"] == "opened"
        assert payload["lang"] == lang
        assert payload["level"] in ("warning", "error", "critical")
        assert payload["url"] == f"/?incident={incident}"
        assert payload["tag"] == incident
        assert payload["server"] == "api-01"
        assert payload["late"] is False
    korean = incident_payloads(push_service, incident)
    assert any("장애" in str(p["title"]) for p in korean)
    assert any(str(p["title"]).startswith("Incident: cpu_overload") for p in korean)
    received = [r for r in push_service.received if r.payload["incident_id"] == incident]
    level = received[0].payload["level"]
    assert received[0].urgency == ("normal" if level == "warning" else "high")
    assert received[0].ttl >= 3600
    assert received[0].topic is not None
    assert len(received[0].topic) == 32


def test_with_notify_min_level_info_an_info_subscriber_hears_every_transition(
    tmp_path: Path, clock: FixedClock, push_service: PushService, vapid: VapidKeys
) -> None:
    settings = push_settings(tmp_path, vapid, notify_min_level="info")
    with https_client(push_app(settings, clock)) as client:
        sub = push_service.subscribe(vapid.public_key)
        quiet = push_service.subscribe(vapid.public_key)
        subscribe(client, sub, min_level="info", lang="en")
        subscribe(client, quiet, min_level="warning", lang="en")
        tick(client)
        incident = inject(client, "config_error", ["api-01"])  # sudden: one alert group
        run_minutes(client, clock, 12)
        incident = detected_as(client, incident)

    told = [p for p in push_service.payloads(sub.endpoint) if p["incident_id"] == incident]
    changes = [p["change"] for p in told]
    assert changes[:3] == ["opened", "recovery_attempted", "recovered"]
    assert changes[-1] == "resolved"
    assert len(changes) == len(set(changes))
    assert all(p["tag"] == incident for p in told)
    assert [p["level"] for p in told[1:]] == ["info"] * (len(told) - 1)
    # Of this incident; routine work elsewhere (a deploy, a batch job) may alert on its own.
    heard = [p["change"] for p in push_service.payloads(quiet.endpoint) if p["tag"] == incident]
    assert heard == ["opened"]


def test_a_subscriber_of_other_servers_hears_nothing(
    client: TestClient, clock: FixedClock, push_service: PushService, vapid: VapidKeys
) -> None:
    elsewhere = push_service.subscribe(vapid.public_key)
    subscribe(client, elsewhere, min_level="info", roles=["cache"])
    tick(client)
    inject(client, "cpu_overload", ["api-01"])
    run_minutes(client, clock, 6)
    assert push_service.payloads(elsewhere.endpoint) == []
    assert push_service.requests == 0


def test_sixteen_workers_still_send_exactly_one(
    tmp_path: Path, push_service: PushService, vapid: VapidKeys
) -> None:
    clock = FixedClock(1_770_026_400.0)
    kv, repo = MemoryKv(), SqliteRepository(tmp_path / "shared.db")
    settings = push_settings(tmp_path, vapid)
    clients = [https_client(push_app(settings, clock, kv=kv, repo=repo)) for _ in range(16)]
    sub = push_service.subscribe(vapid.public_key)
    subscribe(clients[0], sub, min_level="warning", lang="ko")
    tick(clients[0])
    incident = inject(clients[3], "cpu_overload", ["api-01"])
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(8 * 60 // STEP_S):
            clock.advance(STEP_S)
            list(pool.map(tick, clients))
    told = incident_payloads(push_service, detected_as(clients[0], incident))
    assert len(told) == 1, told
    assert told[0]["lang"] == "ko"
    keys = [(p["tag"], p["change"], p["sent_at"]) for p in push_service.payloads()]
    assert len(keys) == len(set(keys))
    repo.close()


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(
    client: TestClient,
    clock: FixedClock,
    push_service: PushService,
    vapid: VapidKeys,
    repo: SqliteRepository,
    status: int,
) -> None:
    gone = push_service.subscribe(vapid.public_key)
    kept = push_service.subscribe(vapid.public_key)
    subscribe(client, gone)
    subscribe(client, kept)
    push_service.reply(status, endpoint=gone.endpoint)
    tick(client)
    incident = inject(client, "cpu_overload", ["api-01"])
    run_minutes(client, clock, 6)
    assert [s.endpoint for s in repo.list_push_subscriptions()] == [kept.endpoint]
    assert len(incident_payloads(push_service, detected_as(client, incident))) == 1


def test_a_hanging_push_service_delays_no_route_past_its_budget(
    tmp_path: Path, clock: FixedClock, push_service: PushService, vapid: VapidKeys
) -> None:
    settings = push_settings(tmp_path, vapid, push_timeout_s=0.5, push_budget_s=1.0)
    with https_client(push_app(settings, clock)) as client:
        sub = push_service.subscribe(vapid.public_key)
        subscribe(client, sub)
        push_service.reply("hang")
        tick(client)
        inject(client, "cpu_overload", ["api-01"])
        slowest = 0.0
        for _ in range(6 * 60 // STEP_S):
            clock.advance(STEP_S)
            started = time.monotonic()
            tick(client)
            slowest = max(slowest, time.monotonic() - started)
        started = time.monotonic()
        tested = client.post("/api/push/test", json={"endpoint": sub.endpoint})
        test_s = time.monotonic() - started
        state = client.app.state.om  # type: ignore[attr-defined]
        failures = state.repo.list_push_subscriptions()[0].failures
    assert push_service.hung >= 1
    assert tested.status_code == 200
    assert tested.json()["status"] == "failed"
    # The budget plus the engine's own work (a few hundred ms) and the thread pool's grace.
    assert slowest < 1.0 + 1.5, slowest
    assert test_s < 1.0 + 0.5, test_s
    assert failures >= 1


def test_a_dashboard_holding_only_the_live_stream_open_sends_the_pushes(
    tmp_path: Path, clock: FixedClock, push_service: PushService, vapid: VapidKeys
) -> None:
    app = push_app(push_settings(tmp_path, vapid), clock)
    with https_client(app) as client:
        sub = push_service.subscribe(vapid.public_key)
        subscribe(client, sub, min_level="warning")
        tick(client)
        inject(client, "config_error", ["api-01"])
        # Nothing but the stream from here on: no tick, no read, for eight fleet-minutes.
        use_timing(app, clock, max_duration_s=8 * 60)
        frames = read_stream(client)
        detected = [
            f for f in frames if f.event == "incident" and f.data.get("root_server") == "api-01"
        ]
        assert detected, "the stream advanced the engine through the incident"
        incident = detected[0].data["id"]
        deadline = time.monotonic() + 10
        while not incident_payloads(push_service, incident) and time.monotonic() < deadline:
            time.sleep(0.05)
    [payload] = incident_payloads(push_service, incident)
    assert (payload["change"], payload["url"]) == ("opened", f"/?incident={incident}")


def test_the_engine_lock_is_free_while_a_worker_is_still_sending(
    tmp_path: Path, push_service: PushService, vapid: VapidKeys
) -> None:
    clock = FixedClock(1_770_026_400.0)
    kv, repo = MemoryKv(), SqliteRepository(tmp_path / "shared.db")
    settings = push_settings(tmp_path, vapid, push_timeout_s=2.0, push_budget_s=2.0)
    sending, other = (https_client(push_app(settings, clock, kv=kv, repo=repo)) for _ in range(2))
    subscribe(sending, push_service.subscribe(vapid.public_key), min_level="warning")
    tick(sending)
    inject(sending, "config_error", ["api-01"])
    push_service.reply("hang")
    clock.advance(3 * 60)
    worker = threading.Thread(target=tick, args=(sending,))
    worker.start()
    deadline = time.monotonic() + 10
    while push_service.hung == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert push_service.hung >= 1, "the first worker advanced and began sending"

    clock.advance(STEP_S)
    report = other.post("/api/tick", headers=CRON).json()
    still_sending = worker.is_alive()
    worker.join(timeout=10)

    assert still_sending
    assert report["outcome"] == "advanced"
    assert report["processed"]["buckets"] >= 1
    repo.close()
