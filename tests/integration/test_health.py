"""``GET /api/health`` reports each store's backend, reachability, latency and costs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv
from lib.store.supabase_repository import SupabaseRepository
from lib.store.upstash_kv import UpstashKv
from tests.support.postgres_service import SERVICE_ROLE_KEY
from tests.support.postgrest_server import PostgrestServer
from tests.support.upstash_server import UpstashServer

NOW = DEFAULT_EPOCH_S + 3 * 1000 + 1


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sqlite_path=str(tmp_path / "om.db"))  # type: ignore[call-arg]


def test_embedded_defaults_are_healthy(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path), clock=FixedClock(NOW), kv=MemoryKv())
    with TestClient(app) as client:
        body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["bucket"] == 1000
    assert body["kv"]["backend"] == "memory"
    assert body["kv"]["reachable"] is True
    assert body["kv"]["commands_sent"] >= 1
    assert body["db"] == body["db"] | {"backend": "sqlite", "reachable": True, "outbox_depth": 0}


def test_real_services_and_their_outages_are_reported(
    tmp_path: Path, upstash_db: UpstashServer, postgrest_db: PostgrestServer
) -> None:
    kv = UpstashKv(upstash_db.url, upstash_db.token, timeout_s=0.5)
    repo = SupabaseRepository(postgrest_db.url, SERVICE_ROLE_KEY, timeout_s=0.5)
    app = create_app(
        settings(tmp_path).model_copy(update={"supabase_url": postgrest_db.url}),
        clock=FixedClock(NOW),
        kv=kv,
        repo=repo,
    )
    with TestClient(app) as client:
        ok = client.get("/api/health").json()
        assert ok["status"] == "ok"
        assert (ok["kv"]["backend"], ok["db"]["backend"]) == ("upstash", "supabase")
        assert ok["db"]["requests_sent"] >= 1

        upstash_db.hang()
        postgrest_db.stop()
        try:
            down = client.get("/api/health")
        finally:
            upstash_db.heal()
            postgrest_db.start()
    body = down.json()
    assert down.status_code == 200
    assert body["status"] == "degraded"
    assert body["kv"] | {"reachable": False, "error": "store_timeout"} == body["kv"]
    assert body["db"] | {"reachable": False, "error": "store_unavailable"} == body["db"]
    assert body["db"]["outbox_depth"] is None
    assert SERVICE_ROLE_KEY not in down.text


def test_the_read_path_does_not_import_heavy_clients() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import api.index"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stderr
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.splitlines()}
    assert "fastapi" in imported
    assert not imported & {"supabase", "postgrest", "pywebpush", "upstash_redis", "mcp"}


def test_uptime_pingers_may_use_head(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path), clock=FixedClock(NOW), kv=MemoryKv())
    with TestClient(app) as client:
        response = client.head("/api/health")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
