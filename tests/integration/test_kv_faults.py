"""Real KV failures become typed errors within the configured timeout, and heal after."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from lib.errors import StoreError, StoreTimeout, StoreUnavailable
from lib.store.upstash_kv import UpstashKv
from tests.support.redis_service import RedisServer
from tests.support.upstash_server import UpstashServer

TIMEOUT_S = 0.5
DEADLINE_S = TIMEOUT_S + 2.0


@pytest.fixture
def kv(upstash_db: UpstashServer) -> Iterator[UpstashKv]:
    store = UpstashKv(upstash_db.url, upstash_db.token, timeout_s=TIMEOUT_S)
    yield store
    store.close()


def fails_fast(call: Callable[[], object], error: type[StoreError]) -> StoreError:
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        call()
    assert time.perf_counter() - started < DEADLINE_S
    assert caught.value.details["backend"] == "upstash"
    return caught.value


def test_a_hung_rest_api_times_out(kv: UpstashKv, upstash_db: UpstashServer) -> None:
    upstash_db.hang()
    fails_fast(lambda: kv.get("k"), StoreTimeout)
    fails_fast(lambda: kv.pipeline([("GET", "k")]), StoreTimeout)
    upstash_db.heal()
    assert kv.set("k", "v")
    assert kv.get("k") == "v"


def test_a_stopped_rest_api_is_unavailable(kv: UpstashKv, upstash_db: UpstashServer) -> None:
    upstash_db.stop()
    try:
        fails_fast(kv.ping, StoreUnavailable)
        fails_fast(lambda: kv.pipeline([("GET", "k")]), StoreUnavailable)
    finally:
        upstash_db.start()
    kv.ping()


def test_an_outage_page_is_unavailable(kv: UpstashKv, upstash_db: UpstashServer) -> None:
    upstash_db.fail(status=502, body="<html>Bad Gateway</html>", content_type="text/html")
    fails_fast(lambda: kv.get("k"), StoreUnavailable)
    fails_fast(lambda: kv.pipeline([("GET", "k")]), StoreUnavailable)
    upstash_db.heal()
    assert kv.get("k") is None


def test_redis_stopped_behind_the_api_fails_typed(
    kv: UpstashKv, redis_db: RedisServer, upstash_db: UpstashServer
) -> None:
    with redis_db.stopped():
        fails_fast(lambda: kv.set("k", "v"), StoreError)
    assert heals(lambda: kv.set("k", "v"))


def heals(call: Callable[[], object], within_s: float = 15.0) -> object:
    """``call``'s result once the store answers again: a restarted Redis takes a moment to
    accept connections, longer than ``TIMEOUT_S`` on a loaded machine."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return call()
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_wrong_token_is_a_store_error_without_the_token(upstash_db: UpstashServer) -> None:
    store = UpstashKv(upstash_db.url, "wrong-secret-token", timeout_s=TIMEOUT_S)
    error = fails_fast(lambda: store.get("k"), StoreError)
    assert "wrong-secret-token" not in str(error)
    store.close()
