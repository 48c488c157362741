"""``PushDispatch`` against the local push service: the queue, deferrals, retries, catch-ups."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lib.clock import FixedClock
from lib.config import Settings
from lib.push import queue
from lib.push.dispatch import PushDispatch
from lib.push.keys import VapidKeys
from lib.push.notices import Notice
from lib.sim import build_fleet
from lib.store.db import PushSubscriptionRecord
from lib.store.kv import Kv
from lib.store.outbox import Outbox
from lib.store.sqlite_repository import SqliteRepository
from tests.integration.http.conftest import https_client
from tests.integration.push.conftest import (
    NOW,
    detected_as,
    inject,
    push_app,
    push_settings,
    subscribe,
    tick,
)
from tests.support.push_service import BrowserSubscription, PushService


def notice(n: int, *, level: str = "error", subject: str | None = None) -> Notice:
    bucket = int((NOW - 1_767_225_600) // 3) - 1
    return Notice(
        key=f"inc-{n}:detected:{bucket}",
        kind="incident",
        change="opened",
        level=level,
        bucket=bucket,
        subject=subject or f"inc-{n}",
        server="api-01",
        servers=("api-01",),
        roles=("api",),
        regions=("us-east-1",),
        incident_id=f"inc-{n}",
        title={"en": f"Incident {n}", "ko": f"장애 {n}"},
        body={"en": "body", "ko": "본문"},
    )


def dispatch_for(settings: Settings, kv: Kv, repo: SqliteRepository) -> PushDispatch:
    fleet = build_fleet(settings.seed, settings.fleet_size, epoch_s=settings.epoch_s)
    return PushDispatch(settings, kv, lambda: repo, FixedClock(NOW), lambda: fleet, Outbox(kv))


def record(repo: SqliteRepository, sub: BrowserSubscription, **fields: object) -> None:
    repo.upsert_push_subscriptions(
        [
            PushSubscriptionRecord.model_validate(
                {"endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth}
                | {"created_at": datetime.fromtimestamp(NOW, UTC)}
                | fields
            )
        ]
    )


def test_sixteen_claimers_share_the_queue_and_each_entry_goes_to_one(kv: Kv) -> None:
    queue.record(kv, [queue.Entry(notice(n).key, notice(n)) for n in range(40)])
    entries = queue.due(kv, NOW)
    with ThreadPoolExecutor(max_workers=16) as pool:
        won = list(pool.map(lambda _: queue.claim(kv, entries), range(16)))
    keys = [e.key for batch in won for e in batch]
    assert sorted(keys) == sorted(notice(n).key for n in range(40))
    assert queue.due(kv, NOW) == []


def test_a_notice_recorded_again_after_it_was_sent_is_dropped(kv: Kv) -> None:
    entry = queue.Entry(notice(1).key, notice(1))
    queue.record(kv, [entry])
    assert queue.claim(kv, queue.due(kv, NOW)) == [entry]
    queue.record(kv, [entry])  # the engine redoing a range after a crash
    assert queue.claim(kv, queue.due(kv, NOW)) == []
    assert queue.due(kv, NOW) == []


def test_a_429_beyond_the_budget_is_deferred_to_its_retry_after(
    tmp_path: Path, kv: Kv, push_service: PushService, vapid: VapidKeys
) -> None:
    repo = SqliteRepository(tmp_path / "h.db")
    dispatch = dispatch_for(push_settings(tmp_path, vapid, push_budget_s=2.0), kv, repo)
    sub = push_service.subscribe(vapid.public_key)
    record(repo, sub)
    push_service.reply(429, retry_after=120, times=1)
    queue.record(kv, [queue.Entry(notice(1).key, notice(1))])

    first = dispatch.deliver()
    early = dispatch.deliver()
    dispatch.clock.advance(121)  # type: ignore[attr-defined]
    late = dispatch.deliver()

    assert (first.deferred, early.sent, late.sent) == (1, 0, 1)
    assert [p["incident_id"] for p in push_service.payloads()] == ["inc-1"]
    repo.close()


def test_a_short_retry_after_and_a_5xx_are_retried_within_the_delivery(
    tmp_path: Path, kv: Kv, push_service: PushService, vapid: VapidKeys
) -> None:
    repo = SqliteRepository(tmp_path / "h.db")
    dispatch = dispatch_for(push_settings(tmp_path, vapid), kv, repo)
    throttled, flaky = push_service.subscribe(vapid.public_key), push_service.subscribe()
    record(repo, throttled)
    record(repo, flaky)
    push_service.reply(429, endpoint=throttled.endpoint, retry_after=1, times=1)
    push_service.reply(503, endpoint=flaky.endpoint, times=1)
    queue.record(kv, [queue.Entry(notice(1).key, notice(1))])

    report = dispatch.deliver()

    assert (report.sent, report.deferred, report.failed) == (2, 0, 0)
    assert len(push_service.payloads(throttled.endpoint)) == 1
    assert len(push_service.payloads(flaky.endpoint)) == 1
    assert push_service.requests == 4
    repo.close()


def test_failures_that_outlast_the_retries_are_recorded_on_the_subscription(
    tmp_path: Path, kv: Kv, push_service: PushService, vapid: VapidKeys
) -> None:
    repo = SqliteRepository(tmp_path / "h.db")
    dispatch = dispatch_for(push_settings(tmp_path, vapid), kv, repo)
    sub = push_service.subscribe(vapid.public_key)
    record(repo, sub)
    push_service.reply(500)
    queue.record(kv, [queue.Entry(notice(1).key, notice(1))])

    report = dispatch.deliver()

    [stored] = repo.list_push_subscriptions()
    assert report.failed == 1
    assert push_service.requests == 3
    assert (stored.failures, stored.last_error) == (1, "push service answered 500")
    repo.close()


def test_a_subscriptions_minimum_level_and_interests_are_respected(
    tmp_path: Path, kv: Kv, push_service: PushService, vapid: VapidKeys
) -> None:
    repo = SqliteRepository(tmp_path / "h.db")
    dispatch = dispatch_for(push_settings(tmp_path, vapid), kv, repo)
    critical_only, databases, everything = (push_service.subscribe() for _ in range(3))
    record(repo, critical_only, min_level="critical")
    record(repo, databases, roles=["database"])
    record(repo, everything, min_level="info")
    queue.record(kv, [queue.Entry(notice(1).key, notice(1, level="error"))])

    dispatch.deliver()

    assert push_service.payloads(critical_only.endpoint) == []
    assert push_service.payloads(databases.endpoint) == []
    assert len(push_service.payloads(everything.endpoint)) == 1
    repo.close()


def test_the_budget_bounds_a_big_fan_out_and_what_it_leaves_is_sent_later(
    tmp_path: Path, kv: Kv, push_service: PushService, vapid: VapidKeys
) -> None:
    repo = SqliteRepository(tmp_path / "h.db")
    settings = push_settings(tmp_path, vapid, push_timeout_s=0.3, push_budget_s=0.6)
    dispatch = dispatch_for(settings, kv, repo)
    subs = [push_service.subscribe() for _ in range(3)]
    for sub in subs:
        record(repo, sub)
    push_service.reply("hang", endpoint=subs[0].endpoint)
    queue.record(kv, [queue.Entry(notice(1).key, notice(1))])

    report = dispatch.deliver()

    assert report.sent == 2
    assert report.failed + report.deferred == 1
    assert all(len(push_service.payloads(s.endpoint)) == 1 for s in subs[1:])
    repo.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_catch_up_sends_one_late_summary_per_incident(
    tmp_path: Path, clock: FixedClock, push_service: PushService, vapid: VapidKeys, lang: str
) -> None:
    settings = push_settings(tmp_path, vapid, notify_min_level="info")
    with https_client(push_app(settings, clock)) as client:
        sub = push_service.subscribe(vapid.public_key)
        subscribe(client, sub, min_level="info", lang=lang)
        tick(client)
        first = inject(client, "cpu_overload", ["api-01"])
        second = inject(client, "database_timeout", ["db-02"])
        clock.advance(15 * 60)  # nobody watching: no tick for a quarter of an hour
        tick(client)
        tick(client)
        first, second = detected_as(client, first), detected_as(client, second)
    told = push_service.payloads(sub.endpoint)
    by_incident = {p["incident_id"]: p for p in told if p["incident_id"]}
    assert sorted(by_incident) == sorted([first, second])
    assert len([p for p in told if p["incident_id"]]) == 2
    for payload in by_incident.values():
        assert payload["late"] is True
        assert str(payload["title"]).startswith("[late] " if lang == "en" else "[지연] ")
        assert payload["history"][0] == "opened"
        assert payload["change"] == "resolved"
