"""A real redis-server for the tests, the Upstash REST server in front of it, and their fixtures.

Register with ``pytest_plugins = ["tests.support.redis_service"]``. Fixtures:

- ``redis_server`` (session): a ``redis-server`` on a free 127.0.0.1 port, no persistence.
- ``redis_db`` (function): the same server, running and unpaused, with every key and script gone.
- ``upstash_server`` (session): ``tests.support.upstash_server`` in front of it.
- ``upstash_db`` (function): that server healed, stats zeroed, over an emptied Redis.
- ``upstash_client`` (function): an ``upstash_redis.Redis`` pointed at it, with no retries.

Fault tests stop, restart, pause or resume ``redis_server`` in place (same port, same URL);
``redis_db`` brings it back for the next test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from upstash_redis import Redis as UpstashRedis

from tests.support.ports import free_port
from tests.support.upstash_server import UpstashServer


def find_redis_server() -> Path:
    """The ``redis-server`` binary."""
    if found := shutil.which("redis-server"):
        return Path(found)
    raise RuntimeError(
        "redis-server not found; install it with `apt-get install redis-server` (see `make test`)"
    )


@cache
def redis_version() -> str:
    """The server version, e.g. ``7.0.15``, read from the binary (no server needed)."""
    out = subprocess.run(
        [str(find_redis_server()), "--version"], capture_output=True, text=True, check=True
    )
    match = re.search(r"v=(\S+)", out.stdout)
    return match.group(1) if match else out.stdout.strip()


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1:``port``, working in ``root``, keeping no data."""

    def __init__(self, binary: Path, root: Path, port: int) -> None:
        self.binary = binary
        self.root = root
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log_file = root / "redis.log"
        self.admin = self._client(timeout_s=5)
        self._process: subprocess.Popen[bytes] | None = None
        self._paused = False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                "--save", "", "--appendonly", "no", "--logfile", str(self.log_file)]  # fmt: skip
        # Own output to the log, not ours: an inherited pipe would outlive a crashed test run.
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.binary), *args], cwd=self.root, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout_s
        with self._client(timeout_s=0.5) as probe:
            while True:
                try:
                    probe.ping()
                    return
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        tail = self.log_file.read_text(errors="replace")[-2000:]
                        raise RuntimeError(
                            f"redis-server did not start on {self.port}\n{tail}"
                        ) from exc
                    time.sleep(0.02)

    def _client(self, timeout_s: float) -> redis.Redis:
        """A client that fails after ``timeout_s`` instead of retrying."""
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM; nothing is saved) and wait until it is gone."""
        if self._process is None:
            return
        self.resume()
        self._process.terminate()
        self._process.wait(timeout=10)
        self._process = None
        self.admin.connection_pool.disconnect()

    def restart(self) -> None:
        """Stop and start again on the same port: every key and loaded script is gone."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections open, nothing is answered."""
        if self._process is not None and not self._paused:
            os.kill(self._process.pid, signal.SIGSTOP)
            self._paused = True

    def resume(self) -> None:
        """Unfreeze a paused process (SIGCONT)."""
        if self._process is not None and self._paused:
            os.kill(self._process.pid, signal.SIGCONT)
            self._paused = False

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Stopped inside the block, started again on the same port after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Frozen inside the block, answering again after it."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def reset(self) -> None:
        """Running, unpaused, with no keys and no cached scripts."""
        self.resume()
        if not self.running:
            self.start()
        self.admin.flushall()
        self.admin.script_flush()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A running redis-server for the whole session."""
    root = Path(tempfile.mkdtemp(prefix="openmanager-redis-"))
    server = RedisServer(find_redis_server(), root, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_db(redis_server: RedisServer) -> RedisServer:
    """The session's redis-server, running and empty (restarted if a test stopped it)."""
    redis_server.reset()
    return redis_server


@pytest.fixture(scope="session")
def upstash_server(redis_server: RedisServer) -> Iterator[UpstashServer]:
    """The Upstash REST server over the session's Redis (``url`` and ``token`` for a client)."""
    with UpstashServer(redis_server.url) as server:
        yield server


@pytest.fixture
def upstash_db(upstash_server: UpstashServer, redis_db: RedisServer) -> UpstashServer:
    """The Upstash REST server running, healed, stats zeroed, over an empty Redis."""
    upstash_server.reset()
    return upstash_server


@pytest.fixture
def upstash_client(upstash_db: UpstashServer) -> Iterator[UpstashRedis]:
    """An ``upstash_redis.Redis`` on ``upstash_db``; no retries, so faults surface at once."""
    client = UpstashRedis(url=upstash_db.url, token=upstash_db.token, rest_retries=0)
    try:
        yield client
    finally:
        client.close()


def pytest_report_header() -> str:
    try:
        return f"redis-server: {redis_version()} ({find_redis_server()})"
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return f"redis-server: unavailable ({exc})"
