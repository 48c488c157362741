"""``scripts/replay_audit.py`` end to end: a log file in, the entries in the SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lib.http.audit import QUEUED
from lib.store.sqlite_repository import SqliteRepository
from tests.unit.http.test_audit import entry

ROOT = Path(__file__).resolve().parents[3]


def test_replays_once_and_names_the_unreadable_line(tmp_path: Path) -> None:
    kept = entry("token.create")
    log = tmp_path / "vercel.log"
    line = f"12:00:01 warning {QUEUED}{kept.model_dump_json()}\n"
    log.write_text(line + f"{QUEUED}{{broken\n" + line, encoding="utf-8")
    db = tmp_path / "om.db"
    ours = ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY")
    env = {k: v for k, v in os.environ.items() if k not in ours} | {"SQLITE_PATH": str(db)}
    run = subprocess.run(
        [sys.executable, "scripts/replay_audit.py", str(log)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "line 2:" in run.stderr
    assert "2 audit entries written" in run.stdout
    repo = SqliteRepository(str(db))
    try:
        assert repo.list_audit_entries(limit=10) == [kept]
    finally:
        repo.close()
