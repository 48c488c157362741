"""Reading chat-completions chunks as the openai package does, failing with a reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lib.ai.llm import LlmFailure, _content, _events


async def _lines(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


def _collect(text: str) -> list[tuple[str | None, str]]:
    async def run() -> list[tuple[str | None, str]]:
        return [e async for e in _events(_lines(text))]

    return asyncio.run(run())


def test_events_are_data_lines_closed_by_a_blank_line() -> None:
    text = ': comment\ndata: {"a": 1}\n\nevent: error\ndata: x\ndata: y\n\ndata: [DONE]\n\n'
    assert _collect(text) == [(None, '{"a": 1}'), ("error", "x\ny"), (None, "[DONE]")]


def test_a_chunk_gives_its_delta_content() -> None:
    assert _content('{"choices": [{"index": 0, "delta": {"content": "hi"}}]}') == "hi"
    assert _content('{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}') == ""
    assert _content('{"choices": [], "usage": {}}') == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('{"choices": [{"delta": ', "malformed"),
        ("[1, 2]", "malformed"),
        ('{"id": "x"}', "malformed"),
        ('{"choices": [{"index": 0}]}', "malformed"),
        ('{"choices": [{"delta": {"content": 5}}]}', "malformed"),
        ('{"error": {"message": "overloaded"}}', "error"),
    ],
)
def test_anything_else_fails_with_a_reason(data: str, reason: str) -> None:
    with pytest.raises(LlmFailure) as info:
        _content(data)
    assert info.value.reason == reason
