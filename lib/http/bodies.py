"""Request bodies: a size limit per route, checked before anything is parsed, and a body that
is not JSON kept from short-cutting authentication.

``BodyGuard`` reads the body of a request that may carry one (at most the route's limit, a
413 past it, without reading the rest), then replays it to the app. FastAPI parses a JSON body
before it runs a route's dependencies and answers a syntax error at once: an anonymous caller
would learn about its JSON before being told it may not call the route. So a body that does not
parse is replaced by ``MALFORMED`` + the parser's reason, a JSON string: every route's body is
an object, so the string fails validation, which FastAPI reports after the dependencies (401,
403 first) and ``lib.http.errors`` turns into a 400 naming the problem.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.http.errors import MALFORMED, error_body

DEFAULT_LIMIT_BYTES = 16 * 1024
"""Every JSON body of the API is a few fields; the largest, a push subscription, is < 3 KiB."""
LIMITS_BYTES = {"/api/mcp": 256 * 1024}
"""Routes (exact paths) that take more: an MCP client may send a long tool call."""
RAW_BODY_PATHS = frozenset({"/api/mcp"})
"""Routes that parse their own body and answer malformed JSON in their own protocol."""
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def limit_for(path: str) -> int:
    return LIMITS_BYTES.get(path.rstrip("/") or "/", DEFAULT_LIMIT_BYTES)


def _is_json(headers: Headers) -> bool:
    # As FastAPI decides: no Content-Type, or a json / +json media type, is parsed as JSON.
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return not media or media.endswith("/json") or media.endswith("+json")


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        error_body(
            "payload_too_large",
            f"the request body may be at most {limit} bytes",
            {"limit_bytes": limit},
        ),
        413,
        headers={"Connection": "close"},
    )


def _checked(body: bytes) -> bytes:
    """``body``, or the JSON stand-in when it does not parse."""
    try:
        json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        return json.dumps(MALFORMED + reason).encode()
    return body


class BodyGuard:
    """Limits and pre-reads request bodies (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = limit_for(path)
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and path not in RAW_BODY_PATHS and _is_json(headers):
            body = _checked(body)
        # In place: the router records the route it matched in this very dict, for the metrics.
        scope["headers"] = [
            (k, v) for k, v in scope["headers"] if k.lower() != b"content-length"
        ] + [(b"content-length", str(len(body)).encode())]
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
