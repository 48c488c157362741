"""``GET /api/stream``: snapshots per bucket, engine events, resumption, heartbeats, closing.

The app runs on a ``FixedClock`` and the stream's ``sleep`` moves that clock: a minute of
fleet time streams in milliseconds, and every wait the stream asks for is recorded.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.http.errors import PUBLIC_MESSAGES
from lib.http.live import StreamTiming
from lib.http.routes.stream import stream_timing
from lib.sim import METRICS, SERVER_STATUSES, window
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    NOW,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
    state_of,
)
from tests.support.upstash_server import UpstashServer


@dataclass
class Frame:
    """One block of the stream: an event, a ``retry:`` hint or comments."""

    event: str | None = None
    id: str | None = None
    data: Any = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


def parse(text: str) -> list[Frame]:
    frames = []
    for block in text.split("\n\n"):
        if not block:
            continue
        frame = Frame()
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame.comments.append(value)
            elif name == "data":
                frame.data = json.loads(value)
            elif name == "retry":
                frame.retry = int(value)
            else:
                setattr(frame, name, value)
        frames.append(frame)
    return frames


@dataclass
class FakeSleep:
    """The stream's ``sleep``: moves the app's clock instead of waiting."""

    clock: FixedClock
    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def use_timing(app: FastAPI, clock: FixedClock, **timing: Any) -> FakeSleep:
    sleep = FakeSleep(clock)
    app.dependency_overrides[stream_timing] = lambda: StreamTiming(sleep=sleep, **timing)
    return sleep


def read_stream(client: TestClient, **kwargs: Any) -> list[Frame]:
    with client.stream("GET", "/api/stream", **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        return parse(response.read().decode())


def snapshots(frames: list[Frame]) -> list[int]:
    return [f.data["bucket"] for f in frames if f.event == "snapshot"]


def last_id(frames: list[Frame]) -> str:
    return [f.id for f in frames if f.id is not None][-1]


def test_one_snapshot_per_bucket_until_the_stream_closes(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    sleep = use_timing(app, clock, max_duration_s=30)
    state = state_of(app)
    first = state.buckets.bucket_of(NOW)
    frames = read_stream(client)

    assert frames[0].retry == 1000
    assert snapshots(frames) == list(range(first, first + 10))
    assert frames[-1].retry == 1000
    assert "reconnect with Last-Event-ID" in frames[-1].comments[0]
    assert sum(sleep.waits) == pytest.approx(30)
    assert max(sleep.waits) <= 3

    snapshot = next(f for f in frames if f.event == "snapshot")
    data = snapshot.data
    assert data["at"] == "2027-01-15T08:00:00Z"
    assert data["metrics"] == list(METRICS)
    assert [s["id"] for s in data["servers"]] == list(state.engine.fleet.ids)
    counts = {k: data["summary"][k] for k in SERVER_STATUSES}
    assert sum(counts.values()) == data["summary"]["servers"] == 30
    engine = state.engine
    expected = window(engine.fleet, first, first + 1, engine.overrides(NOW))[0]
    values = np.array([s["values"] for s in data["servers"]])
    np.testing.assert_allclose(values, expected, atol=0.005 + 1e-6)
    assert {s["status"] for s in data["servers"]} <= set(SERVER_STATUSES)


def test_a_client_reconnecting_sees_every_bucket_once_in_order(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    use_timing(app, clock, max_duration_s=15)
    seen: list[int] = []
    frames = read_stream(client)
    seen += snapshots(frames)
    clock.advance(7)  # the browser's retry delay and a slow network
    frames = read_stream(client, headers={"Last-Event-ID": last_id(frames)})
    seen += snapshots(frames)
    clock.advance(1)
    frames = read_stream(client, params={"last_event_id": last_id(frames)})
    seen += snapshots(frames)
    assert seen == list(range(seen[0], seen[0] + len(seen)))
    assert len(seen) >= 3 * 5


def test_alerts_and_incidents_follow_their_snapshot_and_survive_a_reconnect(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    injected = client.post(
        "/api/incidents",
        json={"type": "config_error", "servers": ["api-02"], "duration_s": 600},
        headers=ADMIN,
    ).json()
    use_timing(app, clock, max_duration_s=45)
    frames = read_stream(client)
    # The engine processes a batch of 20 buckets at a time: the second connection, after a
    # gap, gets the events of buckets the first one had already shown.
    clock.advance(20)
    frames += read_stream(client, headers={"Last-Event-ID": last_id(frames)})

    buckets = snapshots(frames)
    assert buckets == list(range(buckets[0], buckets[-1] + 1))
    events = [(i, f) for i, f in enumerate(frames) if f.event in ("alert", "incident")]
    detected = [f for _, f in events if f.event == "incident" and f.data["change"] == "detected"]
    # One incident, named by the engine after what it saw (root server, bucket detected).
    assert [f.data["root_server"] for f in detected] == ["api-02"]
    assert [f.data["type"] for f in detected] == [injected["type"]]
    fired = {f.data["server_id"] for _, f in events if f.data.get("transition") == "fired"}
    assert "api-02" in fired
    payloads = [json.dumps(f.data, sort_keys=True) for _, f in events]
    assert len(payloads) == len(set(payloads))
    for position, frame in events:
        shown = snapshots(frames[:position])
        assert shown
        assert shown[-1] >= frame.data["bucket"]
        cursor, _, through = frame.id.partition(":")  # type: ignore[union-attr]
        assert int(through or cursor) <= int(cursor)


def test_heartbeats_fill_the_silence_of_long_buckets(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    app = create_app(make_settings(tmp_path, bucket_seconds=60), clock=clock, kv=MemoryKv())
    sleep = use_timing(app, clock, max_duration_s=150, heartbeat_s=15)
    frames = read_stream(https_client(app))
    kinds = ["hb" if f.comments == ["hb"] else f.event for f in frames[1:-1]]
    assert kinds == ["snapshot", "hb", "hb", "hb", "snapshot", "hb", "hb", "hb", "snapshot", "hb"]
    assert sleep.waits == [15.0] * 10


def test_resuming_beyond_the_replay_window_starts_at_its_bound_and_says_so(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    use_timing(app, clock, max_duration_s=1, replay_s=60, chunk_buckets=7)
    current = state_of(app).buckets.bucket_of(NOW)
    frames = read_stream(client, headers={"Last-Event-ID": str(current - 500)})
    assert f"resuming at bucket {current - 19}" in frames[1].comments[0]
    assert snapshots(frames) == list(range(current - 19, current + 1))


def test_an_id_from_the_future_starts_now(
    app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    use_timing(app, clock, max_duration_s=1)
    current = state_of(app).buckets.bucket_of(NOW)
    frames = read_stream(client, headers={"Last-Event-ID": f"{current + 99}:{current}"})
    assert "ahead of bucket" in frames[1].comments[0]
    assert snapshots(frames) == [current]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"headers": {"Last-Event-ID": "yesterday"}}, "Last-Event-ID"),
        ({"params": {"last_event_id": "12:x"}}, "last_event_id"),
    ],
)
def test_a_malformed_last_event_id_is_422(
    client: TestClient, kwargs: dict[str, Any], field: str
) -> None:
    error = assert_error(client.get("/api/stream", **kwargs), 422, "validation_error")
    assert error["details"]["field"] == field


def test_private_streams_need_a_viewer(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    app = create_app(make_settings(tmp_path, public_read=False), clock=clock, kv=MemoryKv())
    use_timing(app, clock, max_duration_s=3)
    client = https_client(app)
    assert_error(client.get("/api/stream"), 401, "unauthorized")
    viewer = bearer(mint_token(client, "viewer"))
    assert snapshots(read_stream(client, headers=viewer))


def test_a_store_failure_ends_the_stream_with_an_error_event(
    tmp_path: Path, upstash_db: UpstashServer
) -> None:
    clock = FixedClock(NOW)
    settings = make_settings(
        tmp_path,
        upstash_redis_rest_url=upstash_db.url,
        upstash_redis_rest_token=upstash_db.token,
        kv_timeout_s=1,
    )
    app = create_app(settings, clock=clock)
    sleep = FakeSleep(clock)

    async def failing_sleep(seconds: float) -> None:
        upstash_db.fail(503)
        await sleep(seconds)

    app.dependency_overrides[stream_timing] = lambda: StreamTiming(
        max_duration_s=300, sleep=failing_sleep
    )
    frames = read_stream(https_client(app))
    assert frames[-1].event == "error"
    assert frames[-1].data["error"]["code"] == "store_unavailable"
    # Issue 15 row 13: the store's own words (hosts, ports) stay in the log.
    assert frames[-1].data["error"]["message"] == PUBLIC_MESSAGES["store_unavailable"]
    assert frames[-1].id == last_id(frames[:-1])
    assert len(snapshots(frames)) <= 11  # the cached world is reread within ten buckets
