"""``GET /api/stream``: the live fleet as server-sent events (see ``lib/http/live.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from lib.errors import RateLimited
from lib.http import sse
from lib.http.auth import Principal, read_access
from lib.http.client_ip import client_ip
from lib.http.live import Cursor, StreamTiming, live_events, start_cursor
from lib.http.schemas.errors import error_responses
from lib.http.state import AppState, get_state
from lib.http.stream_slots import LIMITER as STREAMS
from lib.http.stream_slots import HeldStream

router = APIRouter(tags=["live"])

State = Annotated[AppState, Depends(get_state)]

_DESCRIPTION = """\
One `snapshot` event per bucket (`data`: bucket, time, summary counts by status, and per
server its id, status, health and the twelve metrics), `alert` and `incident` events as the
engine processes buckets, `error` before a close on a store failure, and `: hb` comments when
nothing else was sent for 15 s. A client (token, user, or address when anonymous) holds at most
`STREAM_MAX_PER_CLIENT` (4) streams open at once per instance; one more is a 429. The stream
closes after about 50 s with a `retry:` hint;
the browser reconnects with `Last-Event-ID` (or `?last_event_id=`) and resumes with no gap,
at most an hour back. Ids are `S` (everything through bucket S delivered) or `S:E` (snapshots
through S, alert and incident events through E).
"""


def stream_timing() -> StreamTiming:
    """The production timing; tests replace it through ``app.dependency_overrides``."""
    return StreamTiming()


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Live fleet events (server-sent events)",
    description=_DESCRIPTION,
    responses={
        200: {
            "description": "An event stream.",
            "content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 422, 429, 503),
    },
)
def stream(
    request: Request,
    state: State,
    who: Annotated[Principal | None, Depends(read_access)],
    timing: Annotated[StreamTiming, Depends(stream_timing)],
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", description="Resume after this event id.")
    ] = None,
    last_event_id: Annotated[
        str | None, Query(description="Resume after this id (for EventSource polyfills).")
    ] = None,
) -> StreamingResponse:
    given, field = (
        (last_event_id_header, "Last-Event-ID")
        if last_event_id_header is not None
        else (last_event_id, "last_event_id")
    )
    resume = None if given is None else Cursor.parse(given, field)
    cursor, notice = start_cursor(state.engine, state.clock.now(), resume, timing)
    client = who.id if who is not None else f"ip:{client_ip(request, state.trusted_proxies)}"
    try:
        release = state.stream_slots.take(client)
    except RateLimited:
        state.metrics.rate_limited.labels(limiter=STREAMS).inc()
        raise
    return HeldStream(
        live_events(state, cursor, notice, timing),
        release,
        media_type=sse.MEDIA_TYPE,
        headers=sse.HEADERS,
    )
