"""A real PostgreSQL for the tests: a throwaway cluster in a temp dir, plus pytest fixtures.

Register with ``pytest_plugins = ["tests.support.postgres_service"]``. Fixtures:

- ``postgres`` (session): the running server, ``supabase/migrations/*.sql`` applied.
- ``postgres_db`` (function): the same server with every table of ``public`` truncated.
- ``postgrest`` (session): the PostgREST-subset server of ``postgrest_server`` in front of it.
- ``postgrest_db`` (function): that server over freshly truncated tables.

``initdb`` refuses to run as root, so as root the cluster is created and run as the ``postgres``
user (created by the ``postgresql`` package) in a temp dir under /tmp that it owns.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest

from tests.support.ports import free_port
from tests.support.postgrest_server import PostgrestServer

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
SERVICE_ROLE_KEY = "test-service-role-key"
_TOOLS = ("initdb", "pg_ctl", "postgres")
# Durability is worthless for a throwaway cluster; these settings make it start and write fast.
_SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
timezone = 'UTC'
"""


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres (newest version when several exist)."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version_key(p.parent.name), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in _TOOLS):
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
        "install them with `apt-get install postgresql` (see `make test`)"
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


@cache
def postgres_version() -> str:
    """The server version, e.g. ``15.14``, read from the binary (no server needed)."""
    out = subprocess.run(
        [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True, check=True
    )
    found = re.search(r"\(PostgreSQL\) (\S+)", out.stdout)
    return found.group(1) if found else out.stdout.strip()


class PostgresServer:
    """One PostgreSQL cluster in ``root``, listening on 127.0.0.1:``port`` with trust auth."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.port = port
        self.data_dir = root / "data"
        self.log_file = root / "postgres.log"
        self.dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=5"
        # As root the cluster must belong to (and run as) an unprivileged user.
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def init(self) -> None:
        """Create the cluster (``initdb``) and write the test settings."""
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        options = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]
        self._run("initdb", "-D", str(self.data_dir), *options)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(_SERVER_SETTINGS.format(port=self.port, socket_dir=self.root))

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = str(self.log_file)
        self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", log, "-w", "-t", "30")

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut) and wait until it is gone."""
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False) == 0

    def apply_migrations(self, directory: Path = MIGRATIONS_DIR) -> list[str]:
        """Run every ``*.sql`` file of ``directory`` in name order; return the names applied."""
        names = []
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for path in sorted(directory.glob("*.sql")):
                conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
                names.append(path.name)
        return names

    def truncate_all(self) -> None:
        """Empty every table of the ``public`` schema."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "select quote_ident(tablename) from pg_tables where schemaname = 'public'"
            ).fetchall()
            if rows:
                conn.execute(f"truncate {', '.join(name for (name,) in rows)}")  # type: ignore[arg-type]

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        as_owner: dict[str, object] = {}
        if self._owner is not None:
            as_owner = {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            **as_owner,  # type: ignore[call-overload]
        )
        if check and done.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise RuntimeError(f"{tool} {args[0]} failed: {done.stderr.strip()}\n{log[-2000:]}")
        return done.returncode


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL with the Supabase migrations applied, for the whole session."""
    root = Path(tempfile.mkdtemp(prefix="openmanager-pg-"))
    server = PostgresServer(find_bindir(), root, free_port())
    try:
        server.init()
        server.start()
        server.apply_migrations()
        yield server
    finally:
        if server.is_running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres: PostgresServer) -> PostgresServer:
    """The session's PostgreSQL with every table emptied (restarted if a test stopped it)."""
    if not postgres.is_running():
        postgres.start()
    postgres.truncate_all()
    return postgres


@pytest.fixture(scope="session")
def postgrest(postgres: PostgresServer) -> Iterator[PostgrestServer]:
    """The PostgREST-subset server over the session's PostgreSQL, key ``SERVICE_ROLE_KEY``."""
    server = PostgrestServer(postgres.dsn, SERVICE_ROLE_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgrest_db(postgrest: PostgrestServer, postgres_db: PostgresServer) -> PostgrestServer:
    """The PostgREST-subset server over freshly truncated tables."""
    return postgrest


def pytest_report_header() -> str:
    try:
        return f"postgresql: {postgres_version()} ({find_bindir()})"
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return f"postgresql: unavailable ({exc})"
