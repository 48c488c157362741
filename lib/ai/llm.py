"""An OpenAI-compatible chat-completions client, streamed, with deadlines that cannot be missed.

``POST {AI_BASE_URL}/chat/completions`` with ``"stream": true`` answers server-sent events, as
the ``openai`` package reads them (``openai/_streaming.py``): events are ``field: value`` lines
closed by a blank line, each ``data`` is a ``chat.completion.chunk`` JSON whose
``choices[0].delta.content`` carries text, a ``data`` holding ``{"error": {...}}`` is an error,
and ``data: [DONE]`` ends the stream.

``stream_text`` yields the text pieces and raises ``LlmFailure`` with a ``reason`` when the
first piece is later than ``first_token_s``, a later one than ``stall_s``, the deadline
passes, the status is not 200, or a chunk is not what the protocol says. httpx is imported
here, on the first question that needs a model, never at cold start.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    api_key: str | None
    model: str
    first_token_s: float
    stall_s: float


class LlmFailure(Exception):
    """The model did not give a usable answer; ``reason`` names why (``done.reason``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _content(data: str) -> str:
    """The text of one ``data`` payload; ``LlmFailure`` when it is not a chunk."""
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise LlmFailure("malformed", "a chunk is not JSON") from exc
    if not isinstance(chunk, dict):
        raise LlmFailure("malformed", "a chunk is not an object")
    if chunk.get("error"):
        raise LlmFailure("error", "the stream reported an error")
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        raise LlmFailure("malformed", "a chunk has no choices")
    if not choices:
        return ""  # usage-only chunks carry no choice
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    if not isinstance(delta, dict):
        raise LlmFailure("malformed", "a choice has no delta")
    text = delta.get("content")
    if text is not None and not isinstance(text, str):
        raise LlmFailure("malformed", "delta content is not text")
    return text or ""


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str | None, str]]:
    """(event, data) of each server-sent event."""
    event: str | None = None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


async def stream_text(
    config: LlmConfig, messages: list[dict[str, str]], deadline: float
) -> AsyncIterator[str]:
    """Text pieces of the model's answer; ``deadline`` is a ``time.monotonic()`` instant."""
    import httpx

    body: dict[str, Any] = {"model": config.model, "messages": messages, "stream": True}
    headers = {"Accept": "text/event-stream"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    url = config.base_url.rstrip("/") + "/chat/completions"
    timeout = httpx.Timeout(max(0.1, deadline - time.monotonic()))
    try:
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("POST", url, json=body, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise LlmFailure(f"http_{response.status_code}")
            events = _events(response.aiter_lines()).__aiter__()
            wait = config.first_token_s
            first = True
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LlmFailure("budget")
                try:
                    event, data = await asyncio.wait_for(events.__anext__(), min(wait, left))
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    if min(wait, left) == left:
                        raise LlmFailure("budget") from exc
                    raise LlmFailure("first_token_timeout" if first else "stalled") from exc
                if data.startswith("[DONE]"):
                    return
                if event == "error":
                    raise LlmFailure("error", "the stream reported an error")
                text = _content(data)
                if text:
                    first = False
                    wait = config.stall_s
                    yield text
    except httpx.HTTPError as exc:
        raise LlmFailure("unreachable", type(exc).__name__) from exc
