"""An Upstash REST server in front of a real Redis, for the tests and for manual use.

The wire format follows what ``upstash-redis`` 1.8 sends and parses (its ``http.py`` and
``client.py``) and Upstash's REST documentation:

- ``POST /`` takes one command as a JSON array, ``["SET", "k", "v", "NX", "PX", 1000]``, and
  answers 200 ``{"result": …}`` or 400 ``{"error": "<Redis error text>"}``.
- ``POST /pipeline`` takes an array of commands and answers 200 with one ``{"result"}`` or
  ``{"error"}`` per command; a failing command does not lose the others' results.
- ``POST /multi-exec`` does the same inside MULTI/EXEC; a transaction Redis discards as a whole
  (``EXECABORT``) is 400 with one ``{"error"}``.
- ``Authorization: Bearer <token>`` (or ``?_token=``); without it, 401 ``{"error": "WRONGPASS …"}``.
- ``Upstash-Encoding: base64``: every string in a result, nested ones too, is base64, except a
  bare ``"OK"``; integers and nulls stay as they are. Without it strings are UTF-8 (invalid bytes
  become U+FFFD).
- Every response carries ``Upstash-Sync-Token`` (read-your-writes); the client echoes the last
  one it saw on its next request.
- Upstash's documented limits (Free and Pay as you go), enforced as Upstash answers them:
  a request body over 10 MB, or a reply that would be (loading a whole large structure in one
  request), is 400 ``ERR max request size exceeded``; a key over 32 KB fails that command with
  ``ERR max key size exceeded. Limit: 32768 bytes, Actual: <n> bytes``. Not enforced: the
  100 MB record and 256 MB database sizes (a test never gets near them) and the command rate.

Redis replies map to JSON as Upstash maps them: integers to numbers, bulk and status strings to
strings, nil to null, arrays to nested arrays, errors to their text with the prefix (``ERR …``,
``WRONGTYPE …``, ``NOSCRIPT …``). Command arguments keep the text of their JSON token (``1000``,
``1.5``, ``true``).

It is one module, longer than most, because it is one test double: protocol, script-flag
translation, fault knobs and the thread that runs it only make sense together.

One deviation a client cannot see: a bulk string that is exactly ``OK`` is sent unencoded, as
the status reply is (redis-py does not tell them apart); both decode to ``"OK"``.

Standalone::

    python -m tests.support.upstash_server --redis-url redis://127.0.0.1:6379/0 \
        --port 8079 --token dev
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import threading
import time
from base64 import b64encode
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import uvicorn
from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

type Command = list[str]
type RedisReply = int | bytes | list[RedisReply] | RedisError | None
type JsonValue = int | str | list[JsonValue] | None
type Encoder = Callable[[bytes], str]
type Runner = Callable[[object, Encoder], Awaitable[tuple[object, int]]]

AUTH_ERROR = "WRONGPASS invalid or missing auth token"
MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""Upstash's max request size (docs: troubleshooting/max_request_size_exceeded)."""
MAX_KEY_BYTES = 32 * 1024
"""Upstash's max key size (docs: troubleshooting/max_key_size_exceeded)."""
REQUEST_SIZE_ERROR = "ERR max request size exceeded"
# Commands whose first argument is not a key (the rest name theirs in the first argument).
KEYLESS_COMMANDS = frozenset(
    {"PING", "ECHO", "INFO", "DBSIZE", "FLUSHDB", "FLUSHALL", "TIME", "SCRIPT", "CONFIG",
     "COMMAND", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "SCAN", "KEYS", "RANDOMKEY"}
)  # fmt: skip
MULTI_KEY_COMMANDS = frozenset({"MGET", "DEL", "EXISTS", "UNLINK", "TOUCH"})
# Upstash locks only the keys in KEYS for scripts with this flag; Redis rejects it as unknown.
UPSTASH_ONLY_SCRIPT_FLAGS = frozenset({"allow-key-locking"})
# These change the state of the pooled connection that later requests share.
CONNECTION_STATE_COMMANDS = frozenset(
    {"AUTH", "CLIENT", "DISCARD", "EXEC", "HELLO", "MONITOR", "MULTI", "PSUBSCRIBE", "QUIT",
     "RESET", "SELECT", "SSUBSCRIBE", "SUBSCRIBE", "UNWATCH", "WATCH"}
)  # fmt: skip


class BadRequest(Exception):
    """The request body is not a command (or array of commands) this server can run."""


@dataclass
class ServerStats:
    """What the server received since the last reset; read from the test thread."""

    requests: int = 0
    commands: int = 0
    bytes_received: int = 0
    """Request bodies."""
    bytes_sent: int = 0
    """Response bodies."""
    largest_request: int = 0
    """The largest request body, in bytes."""
    last_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """An injected failure: ``hang`` (never answer) or answer ``status`` with ``body``."""

    kind: Literal["hang", "fail"]
    status: int = 500
    body: str = ""
    content_type: str = "text/plain"


class FaultSwitch:
    """The current fault, set from any thread, applied by the server's event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._remaining: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release = asyncio.Event()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop that runs the handlers (once per server start)."""
        with self._lock:
            self._loop = loop
            self._release = asyncio.Event()

    def set(self, fault: Fault, times: int | None) -> None:
        """Apply ``fault`` to the next ``times`` requests (every request when None)."""
        with self._lock:
            self._fault, self._remaining = fault, times

    def clear(self) -> None:
        """Answer normally again; requests hanging now are released with a 503."""
        with self._lock:
            self._fault = self._remaining = None
            release, self._release = self._release, asyncio.Event()
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(release.set)

    async def intercept(self) -> Response | None:
        """The response a fault imposes on this request, or None to serve it normally."""
        with self._lock:
            fault, release = self._fault, self._release
            if fault is not None and self._remaining is not None:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._fault = self._remaining = None
        if fault is None:
            return None
        if fault.kind == "hang":
            await release.wait()
            return Response("released", 503, media_type="text/plain")
        return Response(fault.body, fault.status, media_type=fault.content_type)


class ScriptShas:
    """Runs scripts carrying Upstash-only shebang flags on Redis, under their Upstash SHA1.

    Such a script goes to Redis without those flags, so Redis knows it under another SHA1;
    EVALSHA, SCRIPT EXISTS and SCRIPT LOAD translate between the two. An unknown SHA1 still
    reaches Redis and fails there with Redis's own ``NOSCRIPT`` error.
    """

    def __init__(self) -> None:
        self._to_redis: dict[str, str] = {}
        self._from_redis: dict[str, str] = {}

    def to_redis(self, command: Command) -> Command:
        """``command`` as Redis must see it."""
        name, sub = _names(command)
        if name in {"EVAL", "EVAL_RO"} and len(command) > 1:
            return [command[0], self._strip(command[1]), *command[2:]]
        if name in {"EVALSHA", "EVALSHA_RO"} and len(command) > 1:
            return [command[0], self._to_redis.get(command[1].lower(), command[1]), *command[2:]]
        if sub == "SCRIPT LOAD" and len(command) == 3:
            return [*command[:2], self._strip(command[2])]
        if sub == "SCRIPT EXISTS":
            return [*command[:2], *(self._to_redis.get(s.lower(), s) for s in command[2:])]
        return command

    def from_redis(self, command: Command, reply: RedisReply) -> RedisReply:
        """Redis's ``reply`` to ``command`` as Upstash gives it (SCRIPT LOAD: the Upstash SHA1)."""
        if _names(command)[1] == "SCRIPT LOAD" and isinstance(reply, bytes):
            return self._from_redis.get(reply.decode(), reply.decode()).encode()
        return reply

    def _strip(self, script: str) -> str:
        first, newline, rest = script.partition("\n")
        if not first.startswith("#!"):
            return script
        words = first.split(" ")
        for i, word in enumerate(words):
            if word.startswith("flags="):
                kept = [f for f in word[6:].split(",") if f not in UPSTASH_ONLY_SCRIPT_FLAGS]
                words[i] = "flags=" + ",".join(kept)
        stripped = " ".join(words) + newline + rest
        if stripped != script:
            upstash_sha, redis_sha = _sha1(script), _sha1(stripped)
            self._to_redis[upstash_sha] = redis_sha
            self._from_redis[redis_sha] = upstash_sha
        return stripped


def _names(command: Command) -> tuple[str, str]:
    """The command's name and, for SCRIPT, ``"SCRIPT <SUBCOMMAND>"`` (else ``""``)."""
    name = command[0].upper()
    if name == "SCRIPT" and len(command) > 1:
        return name, f"SCRIPT {command[1].upper()}"
    return name, ""


def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def error_text(exc: RedisError) -> str:
    """The error line as Redis sent it: redis-py keeps a known prefix apart in ``status_code``
    (some redis-py and Redis versions leave it in the message too)."""
    text = str(exc)
    if not exc.status_code or text.startswith(f"{exc.status_code} "):
        return text
    return f"{exc.status_code} {text}"


def plain(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def base64(raw: bytes) -> str:
    return "OK" if raw == b"OK" else b64encode(raw).decode("ascii")


def to_json(reply: RedisReply, encode: Encoder) -> JsonValue:
    """One Redis reply as Upstash renders it in ``result``."""
    if isinstance(reply, bytes):
        return encode(reply)
    if isinstance(reply, list):
        return [to_json(item, encode) for item in reply]
    if isinstance(reply, RedisError):
        return error_text(reply)
    return reply


def to_entry(reply: RedisReply, encode: Encoder) -> dict[str, JsonValue]:
    if isinstance(reply, RedisError):
        return {"error": error_text(reply)}
    return {"result": to_json(reply, encode)}


def parse_command(raw: object) -> Command:
    """A JSON command array as Redis arguments: each scalar keeps its JSON token's text."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest("ERR command must be a non-empty JSON array")
    args = []
    for arg in raw:
        if isinstance(arg, bool):
            args.append("true" if arg else "false")
        elif isinstance(arg, str):
            args.append(arg)
        else:
            raise BadRequest(f"ERR unsupported argument type in command: {arg!r}")
    return args


def parse_body(body: bytes) -> object:
    try:
        return json.loads(body, parse_int=str, parse_float=str, parse_constant=str)
    except ValueError as exc:
        raise BadRequest(f"ERR invalid JSON body: {exc}") from exc


def command_keys(command: Command) -> list[str]:
    """The keys ``command`` names (scripts: their KEYS)."""
    name = command[0].upper()
    if name in {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"} and len(command) > 2:
        count = int(command[2]) if command[2].isdigit() else 0
        return command[3 : 3 + count]
    if name in MULTI_KEY_COMMANDS:
        return command[1:]
    if name in KEYLESS_COMMANDS or len(command) < 2:
        return []
    return command[1:2]


def refusal(command: Command) -> ResponseError | None:
    if command[0].upper() in CONNECTION_STATE_COMMANDS:
        return ResponseError(f"ERR Command is not allowed: '{command[0].lower()}'")
    for key in command_keys(command):
        size = len(key.encode())
        if size > MAX_KEY_BYTES:
            return ResponseError(
                f"ERR max key size exceeded. Limit: {MAX_KEY_BYTES} bytes, Actual: {size} bytes"
            )
    return None


class Gateway:
    """The request handlers; one Redis connection pool per server run."""

    def __init__(self, redis_url: str, token: str, redis_timeout_s: float = 5.0) -> None:
        self.redis_url = redis_url
        self.token = token
        self.redis_timeout_s = redis_timeout_s
        self.stats = ServerStats()
        self.faults = FaultSwitch()
        self.shas = ScriptShas()
        self._pool: ConnectionPool | None = None
        self._sync_token = 0

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.faults.bind(asyncio.get_running_loop())
        # RESP2: the replies Upstash renders (RESP3 would turn HGETALL into a map, and more).
        self._pool = ConnectionPool.from_url(
            self.redis_url,
            protocol=2,
            socket_timeout=self.redis_timeout_s,
            socket_connect_timeout=self.redis_timeout_s,
        )
        try:
            yield
        finally:
            await self._pool.aclose()

    async def single(self, request: Request) -> Response:
        return await self._serve(request, self._run_single)

    async def pipeline(self, request: Request) -> Response:
        return await self._serve(request, self._run_pipeline)

    async def multi_exec(self, request: Request) -> Response:
        return await self._serve(request, self._run_multi_exec)

    async def _serve(self, request: Request, run: Runner) -> Response:
        self.stats.requests += 1
        self.stats.last_headers = dict(request.headers)
        if (imposed := await self.faults.intercept()) is not None:
            return imposed
        if not self._authorized(request):
            return self._json({"error": AUTH_ERROR}, 401)
        encoding = request.headers.get("upstash-encoding", "").lower()
        body = await request.body()
        self.stats.bytes_received += len(body)
        self.stats.largest_request = max(self.stats.largest_request, len(body))
        if len(body) > MAX_REQUEST_BYTES:
            return self._json({"error": REQUEST_SIZE_ERROR}, 400)
        try:
            content, status = await run(parse_body(body), base64 if encoding == "base64" else plain)
        except BadRequest as exc:
            return self._json({"error": str(exc)}, 400)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            return self._json({"error": f"ERR Redis is unavailable: {exc}"}, 500)
        return self._json(content, status)

    def _authorized(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            given = request.query_params.get("_token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _json(self, content: object, status: int) -> Response:
        self._sync_token += 1
        headers = {"Upstash-Sync-Token": str(self._sync_token)}
        response = JSONResponse(content, status, headers=headers)
        if len(response.body) > MAX_REQUEST_BYTES:
            return JSONResponse({"error": REQUEST_SIZE_ERROR}, 400, headers=headers)
        self.stats.bytes_sent += len(response.body)
        return response

    async def _run_single(self, body: object, encode: Encoder) -> tuple[object, int]:
        command = parse_command(body)
        self.stats.commands += 1
        if error := refusal(command):
            return {"error": error_text(error)}, 400
        (reply,) = await self._call([command])
        entry = to_entry(self.shas.from_redis(command, reply), encode)
        return entry, 400 if "error" in entry else 200

    async def _run_pipeline(self, body: object, encode: Encoder) -> tuple[object, int]:
        commands = self._parse_batch(body)
        refused = [refusal(command) for command in commands]
        sent = [command for command, error in zip(commands, refused, strict=True) if not error]
        replies = iter(await self._call(sent) if sent else [])
        entries = [
            to_entry(error or self.shas.from_redis(command, next(replies)), encode)
            for command, error in zip(commands, refused, strict=True)
        ]
        return entries, 200

    async def _run_multi_exec(self, body: object, encode: Encoder) -> tuple[object, int]:
        commands = self._parse_batch(body)
        for command in commands:
            if error := refusal(command):
                return {"error": error_text(error)}, 400
        executed = (await self._call([["MULTI"], *commands, ["EXEC"]]))[-1]
        if isinstance(executed, RedisError):
            return {"error": error_text(executed)}, 400
        if not isinstance(executed, list):  # nil means a WATCH fired, and WATCH is refused
            raise RuntimeError(f"EXEC answered {executed!r}")
        return [
            to_entry(self.shas.from_redis(command, reply), encode)
            for command, reply in zip(commands, executed, strict=True)
        ], 200

    def _parse_batch(self, body: object) -> list[Command]:
        if not isinstance(body, list):
            raise BadRequest("ERR body must be a JSON array of command arrays")
        commands = [parse_command(raw) for raw in body]
        self.stats.commands += len(commands)
        return commands

    async def _call(self, commands: list[Command]) -> list[RedisReply]:
        """Send ``commands`` in one round trip on one connection; errors come back in place."""
        if self._pool is None:
            raise RedisConnectionError("the server is not running")
        connection = await self._pool.get_connection()
        try:
            packed = connection.pack_commands(self.shas.to_redis(c) for c in commands)
            await connection.send_packed_command(packed)
            replies: list[RedisReply] = []
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as exc:
                    replies.append(exc)
            return replies
        finally:
            await self._pool.release(connection)


def create_app(gateway: Gateway) -> Starlette:
    """The REST app; ``gateway`` keeps the handle on its stats and faults."""
    methods = ["POST", "PUT"]
    routes = [
        Route("/", gateway.single, methods=methods),
        Route("/pipeline", gateway.pipeline, methods=methods),
        Route("/multi-exec", gateway.multi_exec, methods=methods),
    ]
    return Starlette(routes=routes, lifespan=gateway.lifespan)


class UpstashServer:
    """The REST server on 127.0.0.1 in a background thread, with knobs for fault tests.

    It keeps its port across ``stop()``/``start()``, so a client configured once sees the
    endpoint go away and come back.
    """

    def __init__(
        self, redis_url: str, token: str = "test-upstash-token", redis_timeout_s: float = 5.0
    ) -> None:
        self.token = token
        self.port = 0
        self._gateway = Gateway(redis_url, token, redis_timeout_s)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The REST URL to give ``upstash_redis.Redis(url=…, token=…)``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def stats(self) -> ServerStats:
        return self._gateway.stats

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout_s: float = 10.0) -> None:
        """Serve on ``self.port`` (a free one the first time); return once it accepts requests."""
        if self.running:
            raise RuntimeError(f"the Upstash REST server already runs at {self.url}")
        config = uvicorn.Config(
            create_app(self._gateway),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="upstash-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the Upstash REST server did not start on port {self.port}")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Release hanging requests, stop serving and wait for the thread to end."""
        self.heal()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def hang(self, times: int | None = None) -> None:
        """Accept the next ``times`` requests (all when None) and never answer them."""
        self._gateway.faults.set(Fault("hang"), times)

    def fail(
        self,
        status: int = 500,
        body: str = "Internal Server Error",
        content_type: str = "text/plain",
        times: int | None = None,
    ) -> None:
        """Answer the next ``times`` requests (all when None) with ``status`` and ``body``."""
        self._gateway.faults.set(Fault("fail", status, body, content_type), times)

    def heal(self) -> None:
        """Answer normally again; requests hanging now get a 503."""
        self._gateway.faults.clear()

    def reset(self) -> None:
        """Heal, zero the stats and make sure the server runs."""
        self.heal()
        self._gateway.stats = ServerStats()
        if not self.running:
            self.start()

    def __enter__(self) -> UpstashServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--token", required=True)
    parser.add_argument("--redis-timeout", type=float, default=5.0, help="seconds")
    args = parser.parse_args(argv)
    gateway = Gateway(args.redis_url, args.token, args.redis_timeout)
    uvicorn.run(create_app(gateway), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
