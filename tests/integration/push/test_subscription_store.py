"""Migration 0002's columns on both repositories, and an older SQLite file brought up to it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from lib.store.db import PushSubscriptionRecord, Repository
from lib.store.sqlite_repository import SqliteRepository
from tests.integration.test_repository_contract import repo  # noqa: F401  (both adapters)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def record(n: int, **fields: object) -> PushSubscriptionRecord:
    return PushSubscriptionRecord.model_validate(
        {"endpoint": f"https://push.example/{n}", "p256dh": f"k{n}", "auth": f"a{n}"}
        | {"created_at": AT}
        | fields
    )


def test_preferences_and_delivery_state_round_trip(repo: Repository) -> None:  # noqa: F811
    full = record(
        1,
        lang="ko",
        servers=("db-01", "db-02"),
        roles=("database",),
        regions=("ap-northeast-2",),
        failures=3,
        last_error="push service answered 500",
        last_sent_at=AT,
        min_level="error",
    )
    repo.upsert_push_subscriptions([full, record(2)])
    assert repo.list_push_subscriptions() == [full, record(2)]
    assert repo.list_push_subscriptions(for_level="warning") == [record(2)]
    healed = full.model_copy(update={"failures": 0, "last_error": None})
    repo.upsert_push_subscriptions([healed])
    assert repo.list_push_subscriptions()[0] == healed


def test_a_file_from_before_0002_gains_the_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "create table push_subscriptions (endpoint text primary key, p256dh text not null,"
            " auth text not null, label text, min_level text not null, created_at text not null)"
            " strict"
        )
        conn.execute(
            "insert into push_subscriptions values"
            " ('https://push.example/old', 'k', 'a', null, 'critical',"
            " '2026-03-01T12:00:00.000000Z')"
        )
    repository = SqliteRepository(path)
    [old] = repository.list_push_subscriptions()
    assert (old.min_level, old.lang, old.servers, old.failures) == ("critical", "en", (), 0)
    repository.upsert_push_subscriptions([record(3, lang="ko", roles=("web",))])
    roles = {s.endpoint: s.roles for s in repository.list_push_subscriptions()}
    assert roles == {"https://push.example/3": ("web",), "https://push.example/old": ()}
    repository.close()
