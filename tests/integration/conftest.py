"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.store.kv import Kv
from lib.store.memory_kv import MemoryKv
from lib.store.sqlite_repository import SqliteRepository
from lib.store.upstash_kv import UpstashKv


@pytest.fixture(params=["memory", "upstash"])
def kv(request: pytest.FixtureRequest) -> Iterator[Kv]:
    """Every Kv adapter: MemoryKv, and UpstashKv through the real ``upstash-redis`` client →
    the Upstash REST server in tests/support → a real redis-server."""
    if request.param == "memory":
        store: Kv = MemoryKv()
    else:
        server = request.getfixturevalue("upstash_db")
        store = UpstashKv(server.url, server.token, timeout_s=2.0)
    yield store
    store.close()


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqliteRepository]:
    """A SQLite repository in a fresh file (the contract tests override it with every one)."""
    store = SqliteRepository(str(tmp_path / "om.db"))
    yield store
    store.close()
