"""``POST /api/ai/ask``: a question about the fleet, answered from its data (see ``lib.ai``).

With ``Accept: text/event-stream`` the answer streams as server-sent events (``thinking``,
``delta``, ``answer``, ``done``, or ``error``); otherwise it is one JSON document, the
``answer`` event's data plus ``done``'s. ``lib.ai`` is imported on the first question, not
when the function starts: most cold starts serve the dashboard, not the assistant.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, Strict
from starlette.concurrency import run_in_threadpool

from lib.errors import OpenManagerError, ValidationError
from lib.http import sse
from lib.http.auth import Principal, read_access
from lib.http.errors import error_body, public_error, status_of
from lib.http.ratelimit import ai_rate_limit
from lib.http.schemas.errors import error_responses
from lib.http.schemas.fields import Instant
from lib.http.state import AppState, get_state

if TYPE_CHECKING:
    from lib.ai.service import Question

router = APIRouter(tags=["ai"])
log = logging.getLogger("openmanager.ai")


class AskBody(BaseModel):
    model_config = ConfigDict(strict=True)

    question: str = Field(min_length=1, max_length=500, examples=["CPU 가장 높은 서버 3개"])
    conversation_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Continue a conversation (follow-ups keep its context).",
    )
    lang: Literal["ko", "en"] | None = Field(
        None, description="Answer language; by default the question's."
    )
    # Strict but for the time, which JSON can only carry as text.
    at: int | Annotated[Instant, Strict(False)] | None = Field(
        None,
        description="The moment asked about: a bucket number or an ISO 8601 time; now by default.",
    )


class Figure(BaseModel):
    server: str | None = None
    metric: str
    value: float
    unit: str


class AskAnswer(BaseModel):
    text: str
    lang: Literal["ko", "en"]
    bucket: int
    at: datetime
    intent: str
    servers: list[str] = Field(description="Every server the answer names.")
    figures: list[Figure] = Field(description="Every number the text quotes, as shown.")
    chart: dict[str, Any] | None = Field(None, description="A hint the dashboard can draw.")
    conversation_id: str
    engine: Literal["local", "llm"]
    reason: str = Field(description="Why this engine answered (ok, no_model, stalled, …).")
    first_event_ms: float
    total_ms: float


def _bucket(state: AppState, at: int | datetime | None, now: float) -> int:
    current = state.buckets.bucket_of(now)
    if at is None:
        return current
    bucket = at if isinstance(at, int) else state.buckets.bucket_of(at.timestamp())
    if bucket < 0:
        raise ValidationError("'at' is before the fleet's first bucket", field="at")
    if bucket > current:
        raise ValidationError(
            f"'at' is in the future (the current bucket is {current})", field="at"
        )
    return bucket


async def _events(
    state: AppState, question: Question, t0: float
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    from lib.ai.service import ask

    try:
        async for event in ask(state, question, t0):
            yield event
    except OpenManagerError as exc:
        # Mid-stream there is no status to set: the failure becomes the stream's last event.
        public = public_error(exc, "/api/ai/ask")["error"]
        yield "error", {"code": exc.code, "message": public["message"], "status": status_of(exc)}
    except Exception:
        # A bug: logged with its trace, the client told no more than any route tells it.
        log.exception("the assistant failed on %r", question.text[:80])
        yield "error", {"code": "internal", "message": "internal error", "status": 500}


async def _sse(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for name, data in events:
        yield sse.encode(name, data)


def question_of(state: AppState, body: AskBody, now: float) -> Question:
    """The assistant's ``Question`` for ``body`` asked at ``now``."""
    from lib.ai.service import Question

    return Question(body.question, body.lang, _bucket(state, body.at, now), body.conversation_id)


async def answer_of(state: AppState, question: Question, t0: float) -> dict[str, Any]:
    """The whole answer as one document (``answer`` and ``done`` merged); a failure is raised
    as the ``OpenManagerError`` it was."""
    found: dict[str, dict[str, Any]] = {}
    async for name, data in _events(state, question, t0):
        found[name] = data
    if "error" in found:
        raise AnswerFailed(found["error"])
    return found["answer"] | found["done"]


class AnswerFailed(OpenManagerError):
    """The assistant ended in an ``error`` event: its code, message and status kept."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.code = error["code"]
        self.status = error["status"]


@router.post(
    "/ai/ask",
    summary="Ask the assistant about the fleet (JSON, or server-sent events)",
    dependencies=[Depends(ai_rate_limit)],
    response_model=AskAnswer,
    responses={
        200: {"content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **error_responses(401, 403, 422, 429, 503),
    },
)
async def ask_question(
    body: AskBody,
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    who: Annotated[Principal | None, Depends(read_access)],
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Answer ``question`` from the fleet's data at ``at`` (now by default)."""
    t0 = time.monotonic()
    now = state.clock.now()
    await run_in_threadpool(state.engine.maybe_advance, now)
    question = question_of(state, body, now)
    if accept is not None and sse.MEDIA_TYPE in accept:
        return sse.event_stream(_sse(_events(state, question, t0)))
    try:
        merged = await answer_of(state, question, t0)
    except AnswerFailed as failed:
        return JSONResponse(
            error_body(failed.code, failed.message),
            status_code=failed.status,
            headers={"Cache-Control": "no-store"},
        )
    return Response(
        json.dumps(merged, ensure_ascii=False, allow_nan=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
