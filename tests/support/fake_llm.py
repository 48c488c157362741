"""An OpenAI-compatible chat-completions server that streams, with the faults a model has.

The wire format is what the ``openai`` package reads (``openai/_streaming.py``,
``SSEDecoder``): ``POST /v1/chat/completions`` with ``"stream": true`` answers
``text/event-stream``; each event is a ``data: <json>`` line and a blank line, the JSON a
``chat.completion.chunk`` (``id``, ``object``, ``created``, ``model``, ``choices[{index,
delta{role?, content?}, finish_reason}]``), the first delta carrying the role, the last an
empty delta with ``finish_reason: "stop"``; ``data: [DONE]`` ends the stream. Errors are
``{"error": {"message", "type", "param", "code"}}`` with the HTTP status (401 without the
bearer key, 429 rate limited, 500 server error).

The model it plays rephrases the FACTS system message it is given: "Here is what I found:"
followed by the facts' answer, word by word. ``mode`` switches to a fault:

- ``normal``; ``slow_first`` (the first token after ``delay_s``); ``stall`` (a few words, then
  silence for ``delay_s``); ``malformed`` (a chunk that is not JSON); ``invented`` (a number
  that is not among the facts); ``empty`` (a stream with no text); ``http_500``; ``http_429``.

Every request body is kept in ``requests`` so tests can check what the model was told.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.app_server import AppServer

MODES = ("normal", "slow_first", "stall", "malformed", "invented", "empty", "http_500", "http_429")
INVENTED = "9876.5"


@dataclass
class FakeModel:
    api_key: str = "sk-test-fake-llm-key"
    mode: str = "normal"
    delay_s: float = 10.0
    word_gap_s: float = 0.002
    requests: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str, kind: str, code: str | None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _facts_answer(messages: list[dict[str, str]]) -> str:
    for m in messages:
        if m["role"] == "system" and m["content"].startswith("FACTS: "):
            return str(json.loads(m["content"].removeprefix("FACTS: "))["answer"])
    return ""


def create_app(fake: FakeModel) -> Starlette:
    async def completions(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {fake.api_key}":
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        body = await request.json()
        fake.requests.append(body)
        if fake.mode == "http_500":
            return _error(
                500, "The server had an error while processing your request.", "server_error", None
            )
        if fake.mode == "http_429":
            return _error(
                429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
            )
        model = body["model"]
        words = ("Here is what I found: " + _facts_answer(body["messages"])).split(" ")
        if fake.mode == "invented":
            words[4:4] = [f"about {INVENTED}% of"]

        async def events() -> AsyncIterator[bytes]:
            if fake.mode == "slow_first":
                await asyncio.sleep(fake.delay_s)
            yield _chunk(model, {"role": "assistant", "content": ""})
            if fake.mode != "empty":
                for k, word in enumerate(words):
                    if fake.mode == "stall" and k == 3:
                        await asyncio.sleep(fake.delay_s)
                    if fake.mode == "malformed" and k == 2:
                        yield b'data: {"choices": [{"delta": \n\n'
                    yield _chunk(model, {"content": word + (" " if k < len(words) - 1 else "")})
                    await asyncio.sleep(fake.word_gap_s)
            yield _chunk(model, {}, "stop")
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


class FakeLlmServer:
    """The fake model on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self) -> None:
        self.model = FakeModel()
        self._server = AppServer(create_app(self.model))

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/v1"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
