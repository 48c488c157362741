"""``UpstashKv``: the KV port on Upstash Redis over its REST API, through ``upstash-redis``.

Two things the client does not do for us, and why this adapter does them:

- It has no HTTP timeout (its ``httpx.Client`` is built with ``timeout=None``), so a hung
  Upstash would hang a serverless function until the platform kills it. We set one.
- Its ``Pipeline.exec`` raises on the first failing command and the other replies are lost.
  ``pipeline`` here posts to ``/pipeline`` itself, with the client's session and headers, and
  decodes each reply on its own with the client's ``format_response``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import httpx
from upstash_redis import Redis
from upstash_redis.errors import UpstashError
from upstash_redis.http import format_response

from lib.errors import StoreError, StoreTimeout, StoreUnavailable
from lib.store.kv import Command, CommandCounter, Reply, Script

T = TypeVar("T")

_ENCODING = "base64"

# Deletes the key only while it still holds our token, so a holder whose lock expired cannot
# release the lock of the next holder.
_DELETE_IF_EQUALS = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end"
)


class UpstashKv(CommandCounter):
    """Upstash Redis (REST). ``timeout_s`` bounds every round trip."""

    backend = "upstash"

    def __init__(self, url: str, token: str, *, timeout_s: float) -> None:
        super().__init__()
        self._url = url.rstrip("/")
        # Retries are ours to decide (the engine is idempotent and runs again on the next
        # request); the client's default waits 3 s between attempts, too long for a function.
        self.redis = Redis(
            url=self._url,
            token=token,
            rest_encoding=_ENCODING,
            rest_retries=0,
            allow_telemetry=False,
        )
        self._http: httpx.Client = self.redis._http._client
        self._http.timeout = httpx.Timeout(timeout_s)

    def _call(self, commands: int, send: Callable[[], T]) -> T:
        self._count(commands)
        try:
            return send()
        except UpstashError as exc:
            raise StoreError(str(exc), backend=self.backend) from exc
        except httpx.TimeoutException as exc:
            raise StoreTimeout("Upstash did not answer in time", backend=self.backend) from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailable(
                f"Upstash unreachable: {type(exc).__name__}", backend=self.backend
            ) from exc
        except json.JSONDecodeError as exc:
            # A proxy or an outage page answered instead of the REST API.
            raise StoreUnavailable(
                "Upstash answered with a non-JSON body", backend=self.backend
            ) from exc

    def get(self, key: str) -> str | None:
        return self._call(1, lambda: self.redis.get(key))

    def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        return bool(self._call(1, lambda: self.redis.set(key, value, nx=nx or None, px=px)))

    def mget(self, keys: Sequence[str]) -> list[str | None]:
        if not keys:
            return []
        return self._call(1, lambda: self.redis.mget(*keys))

    def incr(self, key: str, *, px: int | None = None) -> int:
        if px is None:
            return int(self._call(1, lambda: self.redis.incr(key)))
        # SET NX PX then INCR: the expiry is set only when this call creates the counter.
        replies = self.pipeline([("SET", key, "0", "NX", "PX", px), ("INCR", key)])
        return int(_raise_first_error(replies)[1])  # type: ignore[arg-type]

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(self._call(1, lambda: self.redis.delete(*keys)))

    def delete_if_equals(self, key: str, value: str) -> bool:
        return bool(
            self._call(1, lambda: self.redis.eval(_DELETE_IF_EQUALS, keys=[key], args=[value]))
        )

    def hget(self, key: str, field: str) -> str | None:
        return self._call(1, lambda: self.redis.hget(key, field))

    def hset(self, key: str, mapping: Mapping[str, str]) -> int:
        return int(self._call(1, lambda: self.redis.hset(key, values=dict(mapping))))

    def hgetall(self, key: str) -> dict[str, str]:
        return dict(self._call(1, lambda: self.redis.hgetall(key)) or {})

    def hdel(self, key: str, *fields: str) -> int:
        return int(self._call(1, lambda: self.redis.hdel(key, *fields)))

    def rpush(self, key: str, *values: str) -> int:
        return int(self._call(1, lambda: self.redis.rpush(key, *values)))

    def lrange(self, key: str, start: int, stop: int) -> list[str]:
        return list(self._call(1, lambda: self.redis.lrange(key, start, stop)))

    def ltrim(self, key: str, start: int, stop: int) -> None:
        self._call(1, lambda: self.redis.ltrim(key, start, stop))

    def llen(self, key: str) -> int:
        return int(self._call(1, lambda: self.redis.llen(key)))

    def zadd(self, key: str, mapping: Mapping[str, float]) -> int:
        return int(self._call(1, lambda: self.redis.zadd(key, dict(mapping))))

    def zrangebyscore(
        self,
        key: str,
        min_score: float,
        max_score: float,
        *,
        offset: int | None = None,
        count: int | None = None,
    ) -> list[str]:
        return list(
            self._call(
                1,
                lambda: self.redis.zrangebyscore(
                    key, _bound(min_score), _bound(max_score), offset=offset, count=count
                ),
            )
        )

    def zremrangebyscore(self, key: str, min_score: float, max_score: float) -> int:
        return int(
            self._call(
                1, lambda: self.redis.zremrangebyscore(key, _bound(min_score), _bound(max_score))
            )
        )

    def pipeline(self, commands: Sequence[Command]) -> list[Reply | StoreError]:
        if not commands:
            return []
        body = [[part if isinstance(part, str) else str(part) for part in c] for c in commands]

        def send() -> list[Reply | StoreError]:
            headers = dict(self.redis._headers)
            self.redis._maybe_set_sync_token_header(headers)
            response = self._http.post(f"{self._url}/pipeline", headers=headers, json=body)
            if token := response.headers.get("Upstash-Sync-Token"):
                self.redis._update_sync_token(token)
            if response.status_code >= 500:
                raise StoreUnavailable(
                    f"Upstash answered {response.status_code}", backend=self.backend
                )
            payload = response.json()
            if isinstance(payload, dict):
                raise UpstashError(payload.get("error", "unexpected pipeline answer"))
            return [self._reply(item) for item in payload]

        return self._call(len(commands), send)

    def _reply(self, item: dict[str, object]) -> Reply | StoreError:
        try:
            return format_response(item, _ENCODING)  # type: ignore[arg-type,return-value]
        except UpstashError as exc:
            return StoreError(str(exc), backend=self.backend)

    def eval(self, script: Script, keys: Sequence[str], args: Sequence[str | int | float]) -> Reply:
        """``EVAL`` (one command; the script text travels each time, EVALSHA would need a
        second command whenever the script cache is cold)."""
        (reply,) = self.pipeline([("EVAL", script.lua, len(keys), *keys, *args)])
        if isinstance(reply, StoreError):
            raise reply
        return reply

    def ping(self) -> None:
        self._call(1, self.redis.ping)

    def close(self) -> None:
        self.redis.close()


def _bound(score: float) -> float | str:
    """Redis spells infinite score bounds ``-inf``/``+inf``."""
    if score == float("inf"):
        return "+inf"
    if score == float("-inf"):
        return "-inf"
    return score


def _raise_first_error(replies: list[Reply | StoreError]) -> list[Reply]:
    for reply in replies:
        if isinstance(reply, StoreError):
            raise reply
    return replies  # type: ignore[return-value]
