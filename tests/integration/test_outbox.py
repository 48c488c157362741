"""The outbox against real services: Supabase (real client → PostgREST server → PostgreSQL)
stopped mid-test keeps every write in the KV; once it is back they all land, once, in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lib.store.db import AlertRecord, AlertStateChange, RollupRecord
from lib.store.kv import Kv
from lib.store.outbox import Outbox
from lib.store.sqlite_repository import SqliteRepository
from lib.store.supabase_repository import SupabaseRepository
from lib.store.upstash_kv import UpstashKv
from tests.support.postgres_service import SERVICE_ROLE_KEY
from tests.support.postgrest_server import PostgrestServer

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def alert(i: int) -> AlertRecord:
    return AlertRecord(
        id=f"al-web-01-cpu_pct-{i}",
        server_id="web-01",
        metric="cpu_pct",
        level="warning",
        state="firing",
        value=91.0,
        threshold=85.0,
        fired_at=T0 + timedelta(seconds=3 * i),
    )


def rollup(minute: int) -> RollupRecord:
    return RollupRecord(
        server_id="web-01",
        minute=T0 + timedelta(minutes=minute),
        samples=20,
        avg={"cpu_pct": 40.0 + minute},
        max={"cpu_pct": 50.0 + minute},
    )


@pytest.fixture
def supabase(postgrest_db: PostgrestServer) -> Iterator[SupabaseRepository]:
    repo = SupabaseRepository(postgrest_db.url, SERVICE_ROLE_KEY, timeout_s=1.0)
    yield repo
    repo.close()


def test_writes_land_directly_when_the_database_answers(
    kv: Kv, supabase: SupabaseRepository
) -> None:
    outbox = Outbox(kv)
    assert outbox.write(supabase, "insert_alerts", [alert(1)]) is True
    assert outbox.depth() == 0
    assert [a.id for a in supabase.list_alerts()] == [alert(1).id]


def test_an_outage_loses_nothing_and_replays_once_in_order(
    kv: Kv, supabase: SupabaseRepository, postgrest_db: PostgrestServer
) -> None:
    outbox = Outbox(kv)
    postgrest_db.stop()
    try:
        assert outbox.write(supabase, "insert_alerts", [alert(1), alert(2)]) is False
        assert outbox.write(supabase, "upsert_rollups", [rollup(0), rollup(1)]) is False
        change = AlertStateChange(id=alert(1).id, state="resolved", at=T0 + timedelta(minutes=5))
        assert outbox.write(supabase, "update_alert_states", [change]) is False
        assert outbox.depth() == 3
    finally:
        postgrest_db.start()

    # The next write replays the queue first, so the state update lands after its insert.
    assert outbox.write(supabase, "insert_alerts", [alert(3)]) is True
    assert outbox.depth() == 0
    # A replay that runs again (a crash between apply and trim) writes nothing twice.
    outbox.write(supabase, "insert_alerts", [alert(1), alert(2)])

    alerts = {a.id: a for a in supabase.list_alerts()}
    assert sorted(alerts) == sorted(alert(i).id for i in (1, 2, 3))
    assert alerts[alert(1).id].state == "resolved"
    assert len(supabase.list_rollups()) == 2


def test_a_rejected_write_is_kept_aside_and_does_not_block_the_queue(
    kv: Kv, tmp_path: object
) -> None:
    repo = SqliteRepository(f"{tmp_path}/om.db")
    outbox = Outbox(kv)
    assert outbox.write(repo, "insert_alerts", [alert(1)]) is True
    kv.rpush("om:outbox", '{"id": "x", "ops": [["no_such_op", [{}]]]}')
    assert outbox.write(repo, "insert_alerts", [alert(2)]) is True
    assert outbox.depth() == 0
    dead = outbox.dead()
    assert [d["ops"][0][0] for d in dead] == ["no_such_op"]
    assert len(repo.list_alerts()) == 2
    repo.close()


def test_when_both_stores_fail_the_caller_is_told(
    supabase: SupabaseRepository, postgrest_db: PostgrestServer, upstash_db: object
) -> None:
    from lib.errors import StoreError

    server = upstash_db
    kv = UpstashKv(server.url, server.token, timeout_s=0.5)  # type: ignore[attr-defined]
    postgrest_db.stop()
    server.fail(status=503)  # type: ignore[attr-defined]
    try:
        with pytest.raises(StoreError):
            Outbox(kv).write(supabase, "insert_alerts", [alert(1)])
    finally:
        server.heal()  # type: ignore[attr-defined]
        postgrest_db.start()
