"""``POST /api/ai/ask``: JSON and SSE answers, validation, conversations, transcripts, limits."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lib.ai import service
from lib.ai.conversations import KEY_PREFIX
from lib.ai.replies import REPLIES
from lib.engine.view import fleet_view
from lib.errors import StoreUnavailable
from lib.store.db import IncidentRecord
from tests.ai.world import EvalWorld, ask, ask_stream
from tests.integration.http.conftest import assert_error, named_fields

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def world() -> Iterator[EvalWorld]:
    world = EvalWorld()
    moments = world.moments()
    next(moments)
    next(moments)  # an incident and its alerts are open
    yield world
    world.close()


@pytest.fixture
def client(world: EvalWorld) -> TestClient:
    return world.client


def test_json_is_the_answer_and_done(client: TestClient, world: EvalWorld) -> None:
    body = ask(client, "CPU 가장 높은 서버 3개")
    assert set(body) == {
        "text", "lang", "bucket", "at", "intent", "servers", "figures", "chart",
        "conversation_id", "engine", "reason", "first_event_ms", "total_ms",
    }  # fmt: skip
    assert (body["lang"], body["intent"], body["bucket"]) == ("ko", "top_n", world.bucket())
    assert (body["engine"], body["reason"]) == ("local", "no_model")
    assert len(body["servers"]) == 3
    per_server = [f for f in body["figures"] if f["metric"] == "cpu_pct"]
    assert [f["server"] for f in per_server] == body["servers"]
    assert all(set(f) <= {"server", "metric", "value", "unit"} for f in body["figures"])


def test_sse_streams_thinking_then_deltas_then_answer_and_done(client: TestClient) -> None:
    events = ask_stream(client, "what's on fire?")
    names = [n for n, _ in events]
    assert names[:3] == ["thinking"] * 3
    assert names[-2:] == ["answer", "done"]
    assert set(names[3:-2]) == {"delta"}
    steps = [d for n, d in events if n == "thinking"]
    assert [s["step"] for s in steps] == ["intent", "data", "analysis"]
    assert steps[0]["detail"].startswith("incidents(")
    text = "".join(d["text"] for n, d in events if n == "delta")
    assert text == events[-2][1]["text"]
    assert events[-1][1]["engine"] == "local"


def test_lang_chooses_the_answer_language(client: TestClient) -> None:
    body = ask(client, "CPU 가장 높은 서버 3개", lang="en")
    assert body["lang"] == "en"
    assert "highest" in body["text"]


def test_at_takes_a_bucket_or_a_time(client: TestClient, world: EvalWorld) -> None:
    past = world.bucket() - 100
    assert ask(client, "top 3 servers by cpu", at=past)["bucket"] == past
    when = world.engine.buckets.start_of(past)
    from datetime import UTC, datetime

    iso = datetime.fromtimestamp(when, UTC).isoformat()
    assert ask(client, "top 3 servers by cpu", at=iso)["bucket"] == past


def test_a_relative_time_moves_the_moment(client: TestClient, world: EvalWorld) -> None:
    body = ask(client, "10분 전 web-01 상태")
    assert body["bucket"] == world.bucket() - 600 // world.engine.buckets.bucket_seconds


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "x" * 501}, "question"),
        ({"question": "hi", "lang": "fr"}, "lang"),
        ({"question": "hi", "at": 10**12}, "at"),
        ({"question": "hi", "at": -5}, "at"),
        ({"question": "hi", "conversation_id": "../../etc"}, "conversation_id"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    error = assert_error(client.post("/api/ai/ask", json=body), 422, "validation_error")
    assert field in named_fields(error)


def test_a_follow_up_keeps_the_conversation(client: TestClient, world: EvalWorld) -> None:
    first = ask(client, "db-03 상태 알려줘")
    follow = ask(client, "그럼 메모리는?", conversation_id=first["conversation_id"])
    assert follow["conversation_id"] == first["conversation_id"]
    assert (follow["intent"], follow["servers"]) == ("server", ["db-03"])
    metrics = {f["metric"] for f in follow["figures"]} & {"cpu_pct", "memory_pct", "disk_pct"}
    assert metrics == {"memory_pct"}
    assert world.app.state.om.kv.get(KEY_PREFIX + first["conversation_id"]) is not None
    alone = ask(client, "그럼 메모리는?")
    assert alone["intent"] != "server"


def test_each_answer_leaves_a_transcript_and_a_count(client: TestClient, world: EvalWorld) -> None:
    state = world.app.state.om
    counter = state.metrics.ai_questions.labels(engine="local")
    before = counter._value.get()
    body = ask(client, "how many servers are critical?")
    assert counter._value.get() == before + 1
    found = [
        t
        for t in state.repo.list_transcripts(limit=100)
        if t.meta.get("conversation_id") == body["conversation_id"]
    ]
    assert len(found) == 1
    record = found[0]
    assert (record.question, record.answer, record.engine, record.lang) == (
        "how many servers are critical?", body["text"], "local", "en",
    )  # fmt: skip
    assert record.meta["intent"] == "count"


def test_the_assistant_has_a_stricter_rate_limit() -> None:
    world = EvalWorld(rate_limit_ai_per_minute=2)
    try:
        next(world.moments())
        for _ in range(2):
            ask(world.client, "help")
        limited = world.client.post("/api/ai/ask", json={"question": "help"})
        assert_error(limited, 429, "rate_limited")
        assert limited.json()["error"]["details"]["limiter"] == "ai"
        assert world.client.get("/api/fleet").status_code == 200
    finally:
        world.close()


def test_a_cold_start_does_not_import_the_assistant() -> None:
    script = (
        "import sys, api.index; print(sorted(m for m in sys.modules if m.startswith('lib.ai')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_a_store_failure_is_an_error_event_or_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    world = EvalWorld()
    try:
        next(world.moments())
        kv = world.app.state.om.kv

        def down(key: str) -> str | None:
            raise StoreUnavailable("the KV is down")

        monkeypatch.setattr(kv, "get", down)
        events = ask_stream(world.client, "help", conversation_id="c-1")
        assert [n for n, _ in events] == ["error"]
        assert events[0][1]["code"] == "store_unavailable"
        response = world.client.post(
            "/api/ai/ask", json={"question": "help", "conversation_id": "c-1"}
        )
        assert_error(response, 503, "store_unavailable")
    finally:
        world.close()


def test_a_bug_is_an_internal_error_without_a_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setitem(REPLIES, "summary", broken)
    events = ask_stream(client, "give me an overview")
    assert events[-1] == ("error", {"code": "internal", "message": "internal error", "status": 500})
    response = client.post("/api/ai/ask", json={"question": "give me an overview"})
    assert_error(response, 500, "internal")
    assert "secret detail" not in response.text


def test_a_stored_escalated_incident_counts_as_open_in_a_report() -> None:
    """An incident only the store knows (the engine's state lost) is open until it closes."""
    world = EvalWorld()
    try:
        state = world.app.state.om
        now = world.clock.now()
        world.engine.advance(now)
        started = datetime.fromtimestamp(now - 600, UTC)
        stored = {
            status: IncidentRecord(
                id=f"stored-{status}",
                type="memory_leak",
                servers=("api-03",),
                status=status,
                started_at=started,
                escalated_at=started if status == "escalated" else None,
                recovered_at=started if status == "recovered" else None,
            )
            for status in ("escalated", "recovered")
        }
        state.repo.upsert_incidents(list(stored.values()))
        bucket = world.bucket()
        facts = service._incident_facts(state, fleet_view(state.engine, now), bucket, day=True)
        by_id = {f.id: f for f in facts}
        assert by_id["stored-escalated"].open
        assert not by_id["stored-recovered"].open
    finally:
        world.close()
