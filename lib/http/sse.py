"""Server-sent events on the wire, and the response every event stream returns.

An event is ``event:``, ``data:``, ``id:`` and ``retry:`` lines closed by a blank line, as
FastAPI's ``format_sse_event`` writes them; a line starting with ``:`` is a comment clients
ignore (heartbeats, notices). Data is compact JSON, which fits on one ``data:`` line and
never holds NaN (``allow_nan=False``: a NaN reaching a stream is a bug to see, not to hide).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

MEDIA_TYPE = "text/event-stream"

HEADERS = {
    "Cache-Control": "no-store",
    # Proxies that buffer (nginx, some CDNs) would hold events back until the stream ends.
    "X-Accel-Buffering": "no",
}


def encode(event: str, data: object, *, id: str | None = None) -> bytes:
    """One event named ``event`` carrying ``data`` as JSON, with an optional ``id``."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return format_sse_event(data_str=text, event=event, id=id)


def comment(text: str) -> bytes:
    """Comment lines (``: text``): ignored by clients, they keep a quiet connection open."""
    return format_sse_event(comment=text)


def retry(retry_ms: int, note: str | None = None) -> bytes:
    """A ``retry:`` field (how long the browser waits before it reconnects), and a comment."""
    return format_sse_event(comment=note, retry=retry_ms)


def event_stream(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    """The streaming response for already encoded events and comments."""
    return StreamingResponse(chunks, media_type=MEDIA_TYPE, headers=HEADERS)
