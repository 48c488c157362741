"""The Upstash REST server of tests/support, driven by the real upstash-redis and ratelimit.

Wire-level checks post raw JSON with httpx; everything else goes through ``upstash_redis.Redis``
exactly as the application's adapter will.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Protocol

import httpx
import pytest
from upstash_ratelimit import FixedWindow, Ratelimit, SlidingWindow
from upstash_redis import AsyncRedis, Redis
from upstash_redis.errors import UpstashError

from tests.support.ports import free_port
from tests.support.redis_service import RedisServer
from tests.support.upstash_server import AUTH_ERROR, MAX_KEY_BYTES, MAX_REQUEST_BYTES, UpstashServer

NOT_AN_INTEGER = "ERR value is not an integer or out of range"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
FLAGGED_SCRIPT = "#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])"


class Post(Protocol):
    def __call__(self, path: str, body: object, *, base64: bool = ...) -> httpx.Response: ...


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def post(http: httpx.Client, upstash_db: UpstashServer) -> Post:
    """POST a JSON body to a path of ``upstash_db`` with its token, optionally asking for base64."""

    def send(path: str, body: object, *, base64: bool = False) -> httpx.Response:
        headers = {"Authorization": f"Bearer {upstash_db.token}"}
        if base64:
            headers["Upstash-Encoding"] = "base64"
        return http.post(upstash_db.url + path, json=body, headers=headers)

    return send


@pytest.fixture
def plain_client(upstash_db: UpstashServer) -> Iterator[Redis]:
    """A client that asks for plain (not base64) strings."""
    client = Redis(upstash_db.url, upstash_db.token, rest_encoding=None, rest_retries=0)
    yield client
    client.close()


def test_set_nx_px_then_get(upstash_client: Redis, redis_db: RedisServer) -> None:
    assert upstash_client.set("lock", "a", nx=True, px=1000) is True
    assert upstash_client.set("lock", "b", nx=True, px=1000) is False
    assert upstash_client.get("lock") == "a"
    assert 0 < redis_db.admin.pttl("lock") <= 1000


def test_strings_counters_expiry_and_delete(upstash_client: Redis, redis_db: RedisServer) -> None:
    upstash_client.set("a", "1")
    assert upstash_client.mget("a", "missing") == ["1", None]
    assert [upstash_client.incr("n"), upstash_client.incr("n")] == [1, 2]
    assert upstash_client.expire("n", 60) is True
    assert upstash_client.expire("missing", 60) is False
    assert 0 < redis_db.admin.ttl("n") <= 60
    assert upstash_client.delete("a", "n", "missing") == 2
    assert upstash_client.get("a") is None


def test_hashes(upstash_client: Redis) -> None:
    assert upstash_client.hset("h", values={"cpu": "0.5", "name": "서버-01"}) == 2
    assert upstash_client.hget("h", "name") == "서버-01"
    assert upstash_client.hget("h", "missing") is None
    assert upstash_client.hgetall("h") == {"cpu": "0.5", "name": "서버-01"}


def test_lists(upstash_client: Redis) -> None:
    assert upstash_client.rpush("l", "b", "c", "d") == 3
    assert upstash_client.lpush("l", "a") == 4
    assert upstash_client.lrange("l", 0, -1) == ["a", "b", "c", "d"]
    assert upstash_client.ltrim("l", 0, 1) == "OK"
    assert upstash_client.llen("l") == 2
    assert upstash_client.lrange("l", 0, -1) == ["a", "b"]


def test_sorted_sets(upstash_client: Redis) -> None:
    assert upstash_client.zadd("z", {"a": 1, "b": 2.5, "c": 3}) == 3
    assert upstash_client.zrangebyscore("z", 0, 2.5) == ["a", "b"]
    assert upstash_client.zrangebyscore("z", "(1", "+inf", withscores=True) == [
        ("b", 2.5),
        ("c", 3.0),
    ]


@pytest.mark.parametrize("value", ["한국어 ✓", "OK", "T0s=", "", "line\nbreak \x00 nul"])
def test_values_round_trip_in_both_encodings(
    upstash_client: Redis, plain_client: Redis, value: str
) -> None:
    upstash_client.set("k", value)
    assert upstash_client.get("k") == value
    assert plain_client.get("k") == value


def test_base64_encodes_every_string_but_ok(post: Post) -> None:
    body = [["SET", "k", "v"], ["GET", "k"], ["MGET", "k", "x"], ["INCR", "n"], ["PING"]]
    encoded = post("/pipeline", body, base64=True)
    assert encoded.json() == [
        {"result": "OK"},
        {"result": "dg=="},
        {"result": ["dg==", None]},
        {"result": 1},
        {"result": "UE9ORw=="},
    ]
    plain = post("/pipeline", [["GET", "k"], ["MGET", "k", "x"], ["PING"]])
    assert plain.json() == [{"result": "v"}, {"result": ["v", None]}, {"result": "PONG"}]


def test_invalid_utf8_becomes_replacement_character_unless_base64(
    post: Post, redis_db: RedisServer
) -> None:
    redis_db.admin.set("bin", b"\xff\x00a")
    assert post("/", ["GET", "bin"]).json() == {"result": "\ufffd\x00a"}
    assert post("/", ["GET", "bin"], base64=True).json() == {"result": "/wBh"}


def test_command_error_is_400_with_the_redis_error_text(post: Post, upstash_client: Redis) -> None:
    post("/", ["SET", "s", "text"])
    for command, error in [(["INCR", "s"], NOT_AN_INTEGER), (["LLEN", "s"], WRONGTYPE)]:
        response = post("/", command)
        assert (response.status_code, response.json()) == (400, {"error": error})
    unknown = post("/", ["NOSUCHCOMMAND", "x"])
    assert unknown.status_code == 400
    assert unknown.json()["error"].startswith("ERR unknown command 'NOSUCHCOMMAND'")
    with pytest.raises(UpstashError, match=NOT_AN_INTEGER):
        upstash_client.incr("s")


def test_arguments_keep_their_json_text(http: httpx.Client, upstash_db: UpstashServer) -> None:
    body = '[["SET","f",1.50],["GET","f"],["SET","t",true],["GET","t"],["SET","i",10],["INCR","i"]]'
    response = http.post(
        upstash_db.url + "/pipeline",
        content=body,
        headers={"Authorization": f"Bearer {upstash_db.token}"},
    )
    results = [entry["result"] for entry in response.json()]
    assert results == ["OK", "1.50", "OK", "true", "OK", 11]


@pytest.mark.parametrize("body", ["not json", "[]", '["GET", null]', '["GET", ["nested"]]', "{}"])
def test_malformed_command_is_400(http: httpx.Client, upstash_db: UpstashServer, body: str) -> None:
    response = http.post(
        upstash_db.url, content=body, headers={"Authorization": f"Bearer {upstash_db.token}"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("ERR ")


def test_pipeline_keeps_the_other_results_when_one_command_fails(post: Post) -> None:
    body = [["SET", "s", "text"], ["INCR", "s"], ["SET", "after", "1"], ["GET", "after"]]
    response = post("/pipeline", body)
    assert response.status_code == 200
    assert response.json() == [
        {"result": "OK"},
        {"error": NOT_AN_INTEGER},
        {"result": "OK"},
        {"result": "1"},
    ]


def test_client_pipeline_casts_each_result(upstash_client: Redis) -> None:
    pipeline = upstash_client.pipeline()
    pipeline.set("k", "v", nx=True)
    pipeline.get("k")
    pipeline.incr("n")
    pipeline.hset("h", "f", "1")
    pipeline.hgetall("h")
    assert pipeline.exec() == [True, "v", 1, 1, {"f": "1"}]


def test_client_pipeline_raises_the_first_error_yet_every_command_ran(
    upstash_client: Redis, redis_db: RedisServer
) -> None:
    """upstash-redis turns the first ``{"error"}`` entry into UpstashError and drops the rest."""
    upstash_client.set("s", "text")
    pipeline = upstash_client.pipeline()
    pipeline.incr("s")
    pipeline.set("after", "1")
    with pytest.raises(UpstashError, match=NOT_AN_INTEGER):
        pipeline.exec()
    assert redis_db.admin.get("after") == "1"


def test_client_transaction(upstash_client: Redis) -> None:
    transaction = upstash_client.multi()
    transaction.set("k", "1")
    transaction.incr("k")
    transaction.get("k")
    assert transaction.exec() == [True, 2, "2"]


def test_transaction_runs_every_command_past_a_runtime_error(post: Post) -> None:
    body = [["SET", "k", "1"], ["HGET", "k", "f"], ["INCR", "k"]]
    response = post("/multi-exec", body)
    assert response.status_code == 200
    assert response.json() == [{"result": "OK"}, {"error": WRONGTYPE}, {"result": 2}]


def test_transaction_discarded_as_a_whole_is_one_400_error(
    post: Post, redis_db: RedisServer
) -> None:
    response = post("/multi-exec", [["SET", "k", "1"], ["NOSUCHCOMMAND"]])
    assert response.status_code == 400
    assert response.json() == {
        "error": "EXECABORT Transaction discarded because of previous errors."
    }
    assert redis_db.admin.exists("k") == 0


@pytest.mark.parametrize("path", ["/", "/pipeline", "/multi-exec"])
def test_connection_state_commands_are_refused(post: Post, path: str) -> None:
    command = ["MULTI"]
    response = post(path, command if path == "/" else [command])
    assert "ERR Command is not allowed: 'multi'" in response.text
    assert post("/", ["SET", "k", "v"]).json() == {"result": "OK"}
    assert post("/", ["GET", "k"]).json() == {"result": "v"}


def test_missing_or_wrong_token_is_401(http: httpx.Client, upstash_db: UpstashServer) -> None:
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": upstash_db.token}]:
        response = http.post(upstash_db.url, json=["PING"], headers=headers)
        assert (response.status_code, response.json()) == (401, {"error": AUTH_ERROR})
    by_query = http.post(upstash_db.url, json=["PING"], params={"_token": upstash_db.token})
    assert by_query.json() == {"result": "PONG"}


def test_client_with_a_wrong_token(upstash_db: UpstashServer) -> None:
    """A single command raises UpstashError; a pipeline trips over the dict body (1.8 quirk)."""
    client = Redis(upstash_db.url, "wrong", rest_retries=0)
    with pytest.raises(UpstashError, match=AUTH_ERROR):
        client.get("k")
    pipeline = client.pipeline()
    pipeline.get("k")
    with pytest.raises(AttributeError):
        pipeline.exec()
    client.close()


def test_fixed_window_limits(upstash_client: Redis) -> None:
    limiter = Ratelimit(upstash_client, FixedWindow(max_requests=3, window=1, unit="h"))
    responses = [limiter.limit("user-1") for _ in range(4)]
    assert [r.allowed for r in responses] == [True, True, True, False]
    assert [r.remaining for r in responses] == [2, 1, 0, 0]
    assert limiter.get_remaining("user-1") == 0
    assert limiter.limit("user-2").allowed is True


def test_sliding_window_limits(upstash_client: Redis) -> None:
    limiter = Ratelimit(upstash_client, SlidingWindow(max_requests=2, window=1, unit="h"))
    responses = [limiter.limit("user-1") for _ in range(3)]
    assert [r.allowed for r in responses] == [True, True, False]
    assert [r.remaining for r in responses] == [1, 0, 0]


def test_flagged_scripts_load_under_their_upstash_sha(
    upstash_client: Redis, redis_db: RedisServer
) -> None:
    sha = upstash_client.script_load(FLAGGED_SCRIPT)
    assert sha == hashlib.sha1(FLAGGED_SCRIPT.encode()).hexdigest()
    assert upstash_client.evalsha(sha, keys=["c"]) == 1
    assert upstash_client.eval(FLAGGED_SCRIPT, keys=["c"]) == 2
    assert upstash_client.script_exists(sha, "0" * 40) == [True, False]
    redis_db.restart()
    with pytest.raises(UpstashError, match=r"^NOSCRIPT "):
        upstash_client.evalsha(sha, keys=["c"])


def test_sync_token_and_telemetry_headers(upstash_client: Redis, upstash_db: UpstashServer) -> None:
    sent = []
    for _ in range(3):
        upstash_client.get("k")
        sent.append(upstash_db.stats.last_headers["upstash-sync-token"])
    assert sent[0] == ""
    assert 0 < int(sent[1]) < int(sent[2])
    assert upstash_db.stats.last_headers["upstash-telemetry-sdk"].startswith("py-upstash-redis@v")


def test_counts_requests_and_commands(upstash_client: Redis, upstash_db: UpstashServer) -> None:
    upstash_client.set("k", "v")
    pipeline = upstash_client.pipeline()
    pipeline.get("k").get("k").get("k")
    pipeline.exec()
    assert (upstash_db.stats.requests, upstash_db.stats.commands) == (2, 4)


def test_fail_knob_answers_5xx_then_recovers(
    upstash_client: Redis, upstash_db: UpstashServer
) -> None:
    """A non-JSON 5xx reaches the caller as the JSONDecodeError the client hits parsing it."""
    upstash_db.fail(503, "upstream unavailable", times=1)
    with pytest.raises(json.JSONDecodeError):
        upstash_client.get("k")
    assert upstash_client.set("k", "v") is True
    upstash_db.fail(500, '{"error":"ERR internal"}', content_type="application/json")
    with pytest.raises(UpstashError, match="ERR internal"):
        upstash_client.get("k")
    upstash_db.heal()
    assert upstash_client.get("k") == "v"


def test_hang_knob_never_answers_until_healed(upstash_db: UpstashServer, post: Post) -> None:
    upstash_db.hang()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(upstash_db.url, json=["PING"], timeout=0.3)
    assert upstash_db.stats.requests == 1
    upstash_db.heal()
    assert post("/", ["PING"]).json() == {"result": "PONG"}


def test_rest_endpoint_stopped_then_back_on_the_same_url(
    upstash_client: Redis, upstash_db: UpstashServer
) -> None:
    upstash_client.set("k", "v")
    upstash_db.stop()
    with pytest.raises(httpx.ConnectError):
        upstash_client.get("k")
    upstash_db.start()
    assert upstash_client.get("k") == "v"


def test_redis_stopped_is_500_then_back_empty(
    upstash_client: Redis, post: Post, redis_db: RedisServer
) -> None:
    upstash_client.set("k", "v")
    with redis_db.stopped():
        response = post("/", ["GET", "k"])
        assert response.status_code == 500
        assert response.json()["error"].startswith("ERR Redis is unavailable")
        with pytest.raises(UpstashError, match="Redis is unavailable"):
            upstash_client.get("k")
    assert upstash_client.get("k") is None
    assert upstash_client.set("k", "v") is True


def test_paused_redis_times_out_as_500(http: httpx.Client, redis_db: RedisServer) -> None:
    with UpstashServer(redis_db.url, redis_timeout_s=0.3) as server, redis_db.paused():
        response = http.post(server.url, json=["PING"], params={"_token": server.token})
    assert response.status_code == 500
    assert "Timeout" in response.json()["error"]


def test_async_client(upstash_db: UpstashServer) -> None:
    async def scenario() -> list[object]:
        async with AsyncRedis(upstash_db.url, upstash_db.token, rest_retries=0) as client:
            await client.set("k", "v", px=1000)
            pipeline = client.pipeline()
            pipeline.get("k")
            pipeline.incr("n")
            return [await client.get("k"), await pipeline.exec()]

    assert asyncio.run(scenario()) == ["v", ["v", 1]]


def test_runs_as_a_standalone_process(redis_db: RedisServer) -> None:
    port = free_port()
    command = [sys.executable, "-m", "tests.support.upstash_server", "--redis-url", redis_db.url,
               "--port", str(port), "--token", "manual"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = Redis(f"http://127.0.0.1:{port}", "manual", rest_retries=0)
        deadline = time.monotonic() + 20
        while True:
            try:
                assert client.ping() == "PONG"
                break
            except httpx.ConnectError:
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert client.set("k", "v") is True
        assert redis_db.admin.get("k") == "v"
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_request_over_10_mb_is_refused_as_upstash_refuses_it(
    post: Post, upstash_client: Redis
) -> None:
    big = "x" * MAX_REQUEST_BYTES
    refused = post("/", ["SET", "big", big])
    assert refused.status_code == 400
    assert refused.json() == {"error": "ERR max request size exceeded"}
    assert upstash_client.get("big") is None
    piped = post("/pipeline", [["SET", "a", big[: MAX_REQUEST_BYTES // 2]], ["SET", "b", big]])
    assert piped.status_code == 400
    assert upstash_client.exists("a") == 0
    assert post("/", ["SET", "fits", "x" * (MAX_REQUEST_BYTES - 100)]).status_code == 200


def test_a_reply_over_10_mb_is_refused(post: Post, upstash_client: Redis) -> None:
    """Upstash: loading a whole large structure in one request exceeds the request size."""
    half = "y" * (MAX_REQUEST_BYTES // 2 + 10)
    assert post("/", ["HSET", "h", "a", half]).status_code == 200
    assert post("/", ["HSET", "h", "b", half]).status_code == 200
    whole = post("/", ["HGETALL", "h"])
    assert whole.status_code == 400
    assert whole.json() == {"error": "ERR max request size exceeded"}
    assert post("/", ["HGET", "h", "a"]).json() == {"result": half}


def test_a_key_over_32_kb_fails_its_command_only(post: Post) -> None:
    key = "k" * (MAX_KEY_BYTES + 1)
    single = post("/", ["SET", key, "v"])
    assert single.status_code == 400
    assert single.json() == {
        "error": f"ERR max key size exceeded. Limit: {MAX_KEY_BYTES} bytes, "
        f"Actual: {MAX_KEY_BYTES + 1} bytes"
    }
    script = post("/pipeline", [["EVAL", "return 1", "1", key], ["SET", "ok", "v"]]).json()
    assert script[0]["error"].startswith("ERR max key size exceeded")
    assert script[1] == {"result": "OK"}
    assert post("/", ["SET", "k" * MAX_KEY_BYTES, "v"]).status_code == 200


def test_counts_bytes_both_ways(post: Post, upstash_db: UpstashServer) -> None:
    upstash_db.reset()
    response = post("/", ["SET", "k", "v" * 1000])
    assert upstash_db.stats.bytes_received == len(response.request.content)
    assert upstash_db.stats.bytes_sent == len(response.content)
