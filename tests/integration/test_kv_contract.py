"""One contract for every ``Kv`` adapter: MemoryKv, and UpstashKv through the real
``upstash-redis`` client → the Upstash REST server in tests/support → a real redis-server."""

from __future__ import annotations

import threading
import time

import pytest

from lib.errors import StoreError
from lib.store.kv import Kv


def test_missing_keys_read_as_nothing(kv: Kv) -> None:
    assert kv.get("nope") is None
    assert kv.mget(["nope", "nada"]) == [None, None]
    assert kv.hgetall("nope") == {}
    assert kv.hget("nope", "f") is None
    assert kv.lrange("nope", 0, -1) == []
    assert kv.llen("nope") == 0
    assert kv.zrangebyscore("nope", 0, 10) == []
    assert kv.delete("nope") == 0


def test_set_get_and_nx(kv: Kv) -> None:
    assert kv.set("k", "v1") is True
    assert kv.set("k", "v2", nx=True) is False
    assert kv.get("k") == "v1"
    assert kv.set("k", "v3") is True
    assert kv.mget(["k", "missing"]) == ["v3", None]


def test_values_keep_unicode_and_json(kv: Kv) -> None:
    value = '{"msg": "데이터베이스 응답 지연", "n": 1}'
    kv.set("u", value)
    assert kv.get("u") == value


def test_px_expires(kv: Kv) -> None:
    assert kv.set("t", "x", px=150)
    assert kv.get("t") == "x"
    time.sleep(0.35)
    assert kv.get("t") is None
    assert kv.set("t", "y", nx=True) is True


def test_nx_under_a_race_has_one_winner(kv: Kv) -> None:
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def contend(i: int) -> None:
        barrier.wait()
        wins.append(kv.set("lock", f"holder-{i}", nx=True, px=5000))

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    holder = kv.get("lock")
    assert holder is not None
    assert kv.delete_if_equals("lock", "someone-else") is False
    assert kv.delete_if_equals("lock", holder) is True
    assert kv.get("lock") is None


def test_incr_sets_expiry_only_on_creation(kv: Kv) -> None:
    assert kv.incr("c", px=300) == 1
    assert kv.incr("c", px=300) == 2
    assert kv.incr("plain") == 1
    time.sleep(0.5)
    assert kv.get("c") is None
    assert kv.get("plain") == "1"


def test_incr_on_text_is_a_store_error(kv: Kv) -> None:
    kv.set("text", "abc")
    with pytest.raises(StoreError):
        kv.incr("text")


def test_hashes(kv: Kv) -> None:
    assert kv.hset("h", {"a": "1", "b": "2"}) == 2
    assert kv.hset("h", {"b": "3", "c": "4"}) == 1
    assert kv.hget("h", "b") == "3"
    assert kv.hgetall("h") == {"a": "1", "b": "3", "c": "4"}
    assert kv.hdel("h", "a", "zz") == 1
    assert kv.hgetall("h") == {"b": "3", "c": "4"}


def test_lists(kv: Kv) -> None:
    assert kv.rpush("l", "a", "b") == 2
    assert kv.rpush("l", "c", "d", "e") == 5
    assert kv.lrange("l", 0, -1) == ["a", "b", "c", "d", "e"]
    assert kv.lrange("l", 1, 2) == ["b", "c"]
    assert kv.lrange("l", -2, -1) == ["d", "e"]
    assert kv.lrange("l", 3, 100) == ["d", "e"]
    kv.ltrim("l", 2, -1)
    assert kv.lrange("l", 0, -1) == ["c", "d", "e"]
    assert kv.llen("l") == 3
    kv.ltrim("l", 5, -1)
    assert kv.llen("l") == 0


def test_sorted_sets(kv: Kv) -> None:
    assert kv.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert kv.zadd("z", {"b": 5, "d": 4}) == 1
    assert kv.zrangebyscore("z", 2, 10) == ["c", "d", "b"]
    assert kv.zrangebyscore("z", float("-inf"), float("inf"), offset=1, count=2) == ["c", "d"]
    assert kv.zremrangebyscore("z", 0, 3) == 2
    assert kv.zrangebyscore("z", float("-inf"), float("inf")) == ["d", "b"]


def test_wrong_type_is_a_store_error(kv: Kv) -> None:
    kv.set("s", "x")
    with pytest.raises(StoreError):
        kv.rpush("s", "y")


def test_pipeline_keeps_other_replies_when_one_fails(kv: Kv) -> None:
    kv.set("text", "abc")
    replies = kv.pipeline(
        [
            ("SET", "p1", "v", "NX", "PX", 10_000),
            ("INCR", "text"),
            ("GET", "p1"),
            ("RPUSH", "pl", "a", "b"),
            ("LRANGE", "pl", 0, -1),
            ("HSET", "ph", "f", "1"),
            ("HGETALL", "ph"),
            ("ZADD", "pz", 1.5, "m"),
            ("ZRANGEBYSCORE", "pz", "-inf", "+inf"),
            ("GET", "missing"),
        ]
    )
    assert replies[0] == "OK"
    assert isinstance(replies[1], StoreError)
    assert replies[2:] == ["v", 2, ["a", "b"], 1, ["f", "1"], 1, ["m"], None]


def test_commands_are_counted(kv: Kv) -> None:
    before_cmds, before_trips = kv.commands_sent, kv.round_trips
    kv.get("a")
    kv.pipeline([("GET", "a"), ("GET", "b"), ("GET", "c")])
    assert kv.commands_sent - before_cmds == 4
    assert kv.round_trips - before_trips == 2


def test_ping(kv: Kv) -> None:
    kv.ping()


def test_engine_scripts_answer_alike_and_count_as_one_command(kv: Kv) -> None:
    """BEGIN and COMMIT, in Lua on Redis and in Python on MemoryKv: same replies, fenced."""
    from lib.engine.state_store import BEGIN, COMMIT

    keys = ["t:lock", "t:world", "t:events"]
    before = kv.commands_sent
    assert kv.eval(BEGIN, keys, ["tok", 60_000, 10, "last", 0]) == ["go"]
    assert kv.commands_sent == before + 1
    assert kv.eval(BEGIN, keys, ["other", 60_000, 10, "last", 0]) == ["busy"]
    commit = ["t:lock", "t:world", "t:book", "t:events"]
    fenced = ["other", "", "last", 1, "last", "10", 0, 0, 0]
    assert kv.eval(COMMIT, commit, fenced) == 0  # not the holder: nothing written
    assert kv.hget("t:world", "last") is None
    moved = ["tok", "9", "last", 1, "last", "10", 0, 0, 0]
    assert kv.eval(COMMIT, commit, moved) == -1  # the cursor is not where it began
    args = ["tok", "", "last", 2, "last", "10", "x", "1", 1, "0", "c0", 2, 5, "e", 8, "f", -5]
    assert kv.eval(COMMIT, commit, args) == 1
    assert kv.hgetall("t:world") == {"last": "10", "x": "1"}
    assert kv.hget("t:book", "0") == "c0"
    assert kv.zrangebyscore("t:events", 0, 100) == ["e", "f"]
    assert kv.get("t:lock") is None  # released
    # Someone already processed bucket 10: the world as it is, and the events from bucket 6.
    idle = kv.eval(BEGIN, keys, ["tok2", 60_000, 10, "last", 6])
    assert idle[:4] == ["idle", "10", 1, "f"]
    assert dict(zip(idle[4::2], idle[5::2], strict=True)) == {"last": "10", "x": "1"}
    assert kv.get("t:lock") is None
    no_events = kv.eval(BEGIN, keys, ["tok2", 60_000, 10, "last", 11])
    assert no_events[:3] == ["idle", "10", 0]
    assert len(no_events) == 7
    assert kv.eval(BEGIN, keys, ["tok2", 60_000, 11, "last", 6]) == ["go", "last", "10", "x", "1"]
