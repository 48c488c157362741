"""A fleet with injected incidents, stopped at fixed moments, for the assistant's evaluation.

Spontaneous failures are off and every recovery fails, so the incidents that exist are the
ones injected here, and they stay open: a database timeout on db-01 (it cascades to the api
and web servers that call it), then a memory leak on api-05, a disk filling on db-04 and a
CPU overload on web-03.
``moments()`` runs the engine to each moment in turn and yields its name: the answers and the
fleet API are read while the clock stands there.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.engine.operator import inject
from lib.http.app import create_app
from lib.store.memory_kv import MemoryKv

DAY_S = 86_400
START = DEFAULT_EPOCH_S + 20 * DAY_S + 9 * 3600 + 0.5
"""A weekday morning (UTC), mid-bucket."""


def settings(directory: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "sqlite_path": str(Path(directory) / "openmanager.db"),
        "failures_enabled": False,
        "recovery_success_rate": 0.0,
        "rate_limit_ai_per_minute": 10_000,
        "rate_limit_api_per_minute": 100_000,
    }
    return Settings(_env_file=None, **(fields | overrides))  # type: ignore[call-arg]


class EvalWorld:
    def __init__(self, **overrides: Any) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="om-ai-")
        self.clock = FixedClock(START)
        self.app: FastAPI = create_app(
            settings(self.directory.name, **overrides), clock=self.clock, kv=MemoryKv()
        )
        self.client = TestClient(self.app)

    @property
    def engine(self) -> Any:
        return self.app.state.om.engine

    def run(self, minutes: int) -> None:
        for _ in range(minutes):
            self.clock.advance(60)
            self.engine.advance(self.clock.now())

    def bucket(self) -> int:
        return int(self.engine.buckets.bucket_of(self.clock.now()))

    def moments(self) -> Iterator[str]:
        """Run to each moment in turn; the name of the moment the clock now stands at."""
        self.engine.advance(self.clock.now())
        self.run(12)  # the detector learns the fleet
        yield "calm"
        inject(self.engine, self.clock.now(), "database_timeout", ["db-01"], 3600)
        self.run(4)
        yield "db_timeout"
        inject(self.engine, self.clock.now(), "memory_leak", ["api-05"], 3600)
        inject(self.engine, self.clock.now(), "disk_full", ["db-04"], 3600)
        inject(self.engine, self.clock.now(), "cpu_overload", ["web-03"], 3600)
        self.run(6)
        yield "three_incidents"

    def close(self) -> None:
        self.client.close()
        self.directory.cleanup()


def ask(client: TestClient, question: str, **body: Any) -> dict[str, Any]:
    response = client.post("/api/ai/ask", json={"question": question, **body})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ask_stream(client: TestClient, question: str, **body: Any) -> list[tuple[str, Any]]:
    """The events of a streamed answer, in order: ``(event, data)``."""
    events: list[tuple[str, Any]] = []
    headers = {"Accept": "text/event-stream"}
    payload = {"question": question, **body}
    with client.stream("POST", "/api/ai/ask", json=payload, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append((str(name), json.loads(line.removeprefix("data:").strip())))
    return events
