"""Real failures, typed: the repository fails fast with ``lib.errors`` and recovers after.

Supabase faults are provoked on the wire: the PostgREST server stopped (connection refused),
PostgreSQL stopped behind it (503), a server that accepts connections and never answers (read
timeout), a wrong key (401). SQLite faults: a file that cannot be created, a lock held by
another connection, a closed repository.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lib.errors import StoreError, StoreTimeout, StoreUnavailable
from lib.store.db import AlertRecord, Repository
from lib.store.sqlite_repository import SqliteRepository
from lib.store.supabase_repository import SupabaseRepository
from tests.support.postgres_service import SERVICE_ROLE_KEY, PostgresServer
from tests.support.postgrest_server import PostgrestServer

TIMEOUT_S = 0.5
# Generous: the point is "no hang, no retry sleeps", not a benchmark.
DEADLINE_S = TIMEOUT_S + 2.5
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def an_alert(ident: str) -> AlertRecord:
    return AlertRecord(
        id=ident,
        server_id="web-01",
        metric="cpu",
        level="critical",
        state="firing",
        value=97.0,
        threshold=90.0,
        fired_at=AT,
    )


def calls(repo: Repository) -> dict[str, Callable[[], object]]:
    """One read, one write and the health check."""
    return {
        "read": lambda: repo.list_alerts(),
        "write": lambda: repo.insert_alerts([an_alert("al-x")]),
        "ping": repo.ping,
    }


def assert_fails_fast(call: Callable[[], object], error: type[StoreError]) -> StoreError:
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        call()
    assert time.perf_counter() - started < DEADLINE_S
    assert caught.value.details["backend"] in ("supabase", "sqlite")
    return caught.value


@pytest.fixture
def own_postgrest(postgres_db: PostgresServer) -> Iterator[PostgrestServer]:
    """A PostgREST server of this test's own, free to be stopped."""
    server = PostgrestServer(postgres_db.dsn, SERVICE_ROLE_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections (the kernel's backlog does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_stopped_rest_server_is_unavailable_then_recovers(own_postgrest: PostgrestServer) -> None:
    repo = SupabaseRepository(own_postgrest.url, SERVICE_ROLE_KEY, timeout_s=TIMEOUT_S)
    repo.insert_alerts([an_alert("al-1")])

    own_postgrest.stop()
    for call in calls(repo).values():
        error = assert_fails_fast(call, StoreUnavailable)
        assert SERVICE_ROLE_KEY not in f"{error.message} {error.details}"
    own_postgrest.start()

    repo.insert_alerts([an_alert("al-2")])
    assert [a.id for a in repo.list_alerts()] == ["al-2", "al-1"]
    repo.close()


def test_stopped_database_is_unavailable_then_recovers(
    own_postgrest: PostgrestServer, postgres_db: PostgresServer
) -> None:
    repo = SupabaseRepository(own_postgrest.url, SERVICE_ROLE_KEY, timeout_s=TIMEOUT_S)
    repo.insert_alerts([an_alert("al-1")])

    postgres_db.stop()
    try:
        for call in calls(repo).values():
            error = assert_fails_fast(call, StoreUnavailable)
            assert error.details["status"] == 503
    finally:
        postgres_db.start()

    repo.insert_alerts([an_alert("al-2")])
    assert len(repo.list_alerts()) == 2
    repo.close()


def test_silent_server_times_out_within_the_timeout(silent_url: str) -> None:
    repo = SupabaseRepository(silent_url, SERVICE_ROLE_KEY, timeout_s=TIMEOUT_S)

    for call in calls(repo).values():
        assert_fails_fast(call, StoreTimeout)
    assert repo.requests_sent == 3
    repo.close()


def test_wrong_key_is_a_store_error_that_does_not_echo_it(own_postgrest: PostgrestServer) -> None:
    wrong_key = "not-the-service-role-key"
    repo = SupabaseRepository(own_postgrest.url, wrong_key, timeout_s=TIMEOUT_S)

    error = assert_fails_fast(repo.ping, StoreError)

    assert type(error) is StoreError
    assert error.details["status"] == 401
    assert wrong_key not in f"{error.message} {error.details}"
    repo.close()


def test_a_refused_request_carries_postgrests_code(postgres_db: PostgresServer) -> None:
    with PostgrestServer(postgres_db.dsn, SERVICE_ROLE_KEY, schema="private") as server:
        repo = SupabaseRepository(server.url, SERVICE_ROLE_KEY, timeout_s=TIMEOUT_S)
        error = assert_fails_fast(lambda: repo.list_alerts(), StoreError)
        repo.close()

    assert type(error) is StoreError
    assert (error.details["status"], error.details["code"]) == (406, "PGRST106")


def test_sqlite_file_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(StoreUnavailable):
        SqliteRepository(blocker / "history.db")


def test_sqlite_lock_held_elsewhere_times_out(tmp_path: Path) -> None:
    repo = SqliteRepository(tmp_path / "history.db", timeout_s=0.2)
    other = sqlite3.connect(tmp_path / "history.db", isolation_level=None)
    other.execute("begin exclusive")
    try:
        assert_fails_fast(lambda: repo.insert_alerts([an_alert("al-1")]), StoreTimeout)
    finally:
        other.execute("rollback")
        other.close()

    repo.insert_alerts([an_alert("al-1")])
    assert [a.id for a in repo.list_alerts()] == ["al-1"]
    repo.close()


def test_closed_sqlite_repository_is_unavailable(tmp_path: Path) -> None:
    repo = SqliteRepository(tmp_path / "history.db")
    repo.close()

    for call in calls(repo).values():
        assert_fails_fast(call, StoreUnavailable)
