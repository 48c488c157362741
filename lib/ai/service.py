"""The assistant's shell: reads the fleet for a question, streams the answer, keeps the record.

``ask`` yields ``(event, data)`` pairs: ``thinking`` steps as they happen, ``delta`` text,
one ``answer`` and one ``done``. The local engine always computes the answer; a configured
model may rephrase it, within the budget (``AI_BUDGET_S``, 8 s by default) whatever it does:
a late first token, a stall, an error status, a malformed chunk or a number that is not among
the facts makes the local answer stand, and ``done.reason`` says why.

A delta with ``"replace": true`` replaces the text shown so far (the model's text was
rejected after some of it had been streamed); ``answer.text`` is always the final text.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from lib.ai import conversations
from lib.ai.answer import DataNeeds, data_needs, local_answer, moment, step
from lib.ai.data import AlertFact, FleetData, IncidentFact, Lang, Reply
from lib.ai.grounding import allowed_numbers, invented, messages
from lib.ai.intents import Query, parse
from lib.ai.llm import LlmConfig, LlmFailure, stream_text
from lib.analysis import fleet_health
from lib.engine import Engine
from lib.engine.detection import detect
from lib.engine.view import FleetView, fleet_view
from lib.errors import StoreError
from lib.http.schemas.incidents import open_incident_count
from lib.sim import window
from lib.store.db import CLOSED_INCIDENTS, TranscriptRecord

if TYPE_CHECKING:
    from lib.http.state import AppState

log = logging.getLogger("openmanager.ai")

LOCAL_ONLY = ("help", "refuse", "out_of_scope")
"""Intents the model never phrases: nothing to ground, and nothing it should add."""
FALLBACK_MARGIN_S = 0.3
"""Kept back from the budget to send the local answer after the model gives up."""
DAY_S = 86_400
HISTORY_CELLS = 2_000_000
"""Buckets × servers of history one answer may compute (× 12 metrics × 4 bytes: 96 MB)."""
_PIECE = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Question:
    text: str
    lang: Lang | None
    bucket: int
    conversation_id: str | None


def llm_config(state: AppState) -> LlmConfig | None:
    s = state.settings
    if not s.ai_base_url:
        return None
    key = s.ai_api_key.get_secret_value() if s.ai_api_key else None
    return LlmConfig(
        s.ai_base_url, key, s.ai_model, s.ai_first_token_timeout_s, s.ai_stall_timeout_s
    )


_PAST_VIEWS: weakref.WeakKeyDictionary[Engine, FleetView] = weakref.WeakKeyDictionary()
"""The last past bucket's view per engine: follow-ups about one past moment share it."""


def _view_at(state: AppState, now: float, bucket: int) -> FleetView:
    """The engine's read model of ``bucket``: the current one is the view every reader shares;
    a past one is computed the same way (``fleet_view``'s detection, today's world) without
    displacing it or the engine's cached world."""
    engine = state.engine
    if bucket == state.buckets.bucket_of(now):
        return fleet_view(engine, now)
    world = engine.world(now)
    cached = _PAST_VIEWS.get(engine)
    if cached is not None and cached.bucket == bucket and cached.world is world:
        return cached
    overrides = engine.overrides(now)
    detection = detect(engine.fleet, overrides, bucket, bucket + 1, scorer=engine.scorer)
    view = FleetView(bucket, engine.fleet, detection, world, overrides, world.last)
    _PAST_VIEWS[engine] = view
    return view


def _incident_facts(state: AppState, view: FleetView, bucket: int, day: bool) -> list[IncidentFact]:
    """Incidents the engine tracks (open at ``bucket``) and, for a report, those stored today."""
    facts: dict[str, IncidentFact] = {}
    ids = view.fleet.ids
    for t in view.tracked_incidents:
        if t.started_bucket > bucket:
            continue
        facts[t.id] = IncidentFact(
            id=t.id,
            type=t.type,
            status=t.status,
            open=True,
            servers=tuple(ids[s] for s in t.servers),
            started_bucket=t.started_bucket,
            detected_bucket=t.detected_bucket,
            strategy=t.strategy,
            timeline=tuple((int(b), str(e), r[0]) for b, e, r in t.timeline if b <= bucket),
            diagnosis=getattr(t, "diagnosis", None),
        )
    if day:
        start = state.buckets.start_of(bucket)
        day_start = datetime.fromtimestamp(start - start % DAY_S, UTC)
        records = state.repo.list_incidents(
            start=day_start, end=datetime.fromtimestamp(start + 1, UTC), limit=50
        )
        b_of = state.buckets.bucket_of
        for r in records:
            if r.id in facts:
                continue
            facts[r.id] = IncidentFact(
                id=r.id,
                type=r.type,
                status=r.status,
                open=r.status not in CLOSED_INCIDENTS,
                servers=tuple(r.servers),
                started_bucket=b_of(r.started_at.timestamp()),
                detected_bucket=b_of(r.detected_at.timestamp()) if r.detected_at else None,
                strategy=r.strategy,
                timeline=tuple(
                    (b_of(e.at.timestamp()), e.event, e.reason or "") for e in r.timeline
                ),
                diagnosis=getattr(r, "diagnosis", None),
            )
    return list(facts.values())


def fleet_data(state: AppState, now: float, bucket: int, needs: DataNeeds) -> FleetData:
    """Everything an answer about ``bucket`` may read, from the engine's read models."""
    view = _view_at(state, now, bucket)
    fleet = view.fleet
    history = None
    start = None
    if needs.history_s:
        # A large fleet gets a shorter window, not a window that does not fit in memory.
        n = max(3, min(needs.history_s // fleet.bucket_seconds, HISTORY_CELLS // fleet.size))
        start = max(0, bucket - n + 1)
        history = window(fleet, start, bucket + 1, view.overrides)
    alerts = tuple(
        AlertFact(a.id, a.server, a.metric, a.level, a.state, a.fired_bucket, a.peak_score)
        for a in view.open_alerts
        if a.fired_bucket <= bucket
    )
    incidents = _incident_facts(state, view, bucket, needs.report_day)
    return FleetData(
        bucket=bucket,
        at=datetime.fromtimestamp(state.buckets.start_of(bucket), UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        bucket_seconds=fleet.bucket_seconds,
        ids=fleet.ids,
        role=fleet.role,
        region=fleet.region,
        values=view.values.astype(np.float64),
        status=view.status,
        health=np.round(view.health.astype(np.float64), 1),
        fleet_health=fleet_health(view.health, view.status).score,
        # Now: the count the fleet API shows; in the past: what the engine tracked then.
        active_incidents=open_incident_count(view)
        if bucket == state.buckets.bucket_of(now)
        else sum(1 for i in incidents if i.open),
        alerts=alerts,
        incidents=tuple(incidents),
        depends_on=state.engine.depends_on,
        history=history,
        history_start=start,
    )


def _pieces(text: str) -> list[str]:
    """The local answer in word-sized deltas, as a model would stream it."""
    return _PIECE.findall(text)


async def ask(
    state: AppState, question: Question, t0: float
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The events of one answer; ``t0`` is when the request arrived (``time.monotonic()``)."""
    settings = state.settings
    deadline = t0 + settings.ai_budget_s
    conversation = await run_in_threadpool(conversations.load, state.kv, question.conversation_id)
    query = parse(question.text, conversation.last, question.lang)
    lang: Lang = query.lang
    yield "thinking", step("intent", lang, query.describe())
    first_event_ms = (time.monotonic() - t0) * 1000

    needs = data_needs(query)
    bucket = moment(question.bucket, needs, lang, settings.bucket_seconds, settings.epoch_s)
    now = state.clock.now()
    data = await run_in_threadpool(fleet_data, state, now, bucket, needs)
    history = "" if data.history is None else f", {data.history.shape[0]} buckets of history"
    yield (
        "thinking",
        step("data", lang, f"{data.size} servers @ bucket {bucket} ({data.at}){history}"),
    )

    reply = local_answer(query, data)
    yield "thinking", step("analysis", lang, reply.analysis(lang) or query.intent)

    text = reply.text(lang)
    engine, reason = "local", "no_model"
    config = llm_config(state)
    streamed = False
    if config is not None and query.intent in LOCAL_ONLY:
        reason = "local_intent"
    elif config is not None:
        yield "thinking", step("model", lang, "LLM")
        model_text = ""
        try:
            grounded = _grounded(config, question.text, reply, lang, conversation, data, deadline)
            async for piece in grounded:
                streamed = True
                model_text += piece
                yield "delta", {"text": piece}
            if not model_text.strip():
                raise LlmFailure("empty")
            engine, reason, text = "llm", "ok", model_text
        except LlmFailure as failure:
            reason = failure.reason
            yield "thinking", step("fallback", lang, reason)
            if streamed:
                yield "delta", {"text": text, "replace": True}
    if engine == "local" and not streamed:
        for piece in _pieces(text):
            yield "delta", {"text": piece}

    conversation_id = conversation.id
    yield (
        "answer",
        {
            "text": text,
            "lang": lang,
            "bucket": bucket,
            "at": data.at,
            "intent": query.intent,
            "servers": list(reply.servers),
            "figures": [f.to_dict() for f in reply.figures],
            "chart": reply.chart,
            "conversation_id": conversation_id,
        },
    )
    total_ms = (time.monotonic() - t0) * 1000
    done = {
        "engine": engine,
        "reason": reason,
        "first_event_ms": round(first_event_ms, 1),
        "total_ms": round(total_ms, 1),
    }
    state.metrics.ai_questions.labels(engine=engine).inc()
    yield "done", done
    await run_in_threadpool(_keep, state, conversation, query, question, text, lang, done, bucket)


async def _grounded(
    config: LlmConfig,
    question: str,
    reply: Reply,
    lang: Lang,
    conversation: conversations.Conversation,
    data: FleetData,
    deadline: float,
) -> AsyncIterator[str]:
    """The model's text, released word by word once its numbers are known to be facts."""
    allowed = allowed_numbers(reply, question, lang)
    prompt = messages(question, reply, lang, conversation.questions, data.at)
    pending = ""
    async for piece in stream_text(config, prompt, deadline - FALLBACK_MARGIN_S):
        pending += piece
        # Hold back the last, maybe unfinished word: "9" may become "92.1".
        cut = max(pending.rfind(" "), pending.rfind("\n"))
        if cut < 0:
            continue
        ready, pending = pending[: cut + 1], pending[cut + 1 :]
        if invented(ready, allowed):
            raise LlmFailure("invented_number")
        yield ready
    if invented(pending, allowed):
        raise LlmFailure("invented_number")
    if pending:
        yield pending


def _keep(
    state: AppState,
    conversation: conversations.Conversation,
    query: Query,
    question: Question,
    text: str,
    lang: Lang,
    done: dict[str, Any],
    bucket: int,
) -> None:
    """Remember the conversation and write the transcript (through the outbox)."""
    try:
        conversations.save(
            state.kv, conversation, query, question.text, state.settings.ai_conversation_ttl_s
        )
    except StoreError as exc:
        log.warning("conversation not saved: %s", exc.code)
    record = TranscriptRecord(
        id=uuid.uuid4().hex,
        at=datetime.fromtimestamp(state.clock.now(), UTC),
        question=question.text,
        answer=text,
        engine=done["engine"],
        lang=lang,
        latency_ms=int(done["total_ms"]),
        meta={
            "intent": query.intent,
            "reason": done["reason"],
            "bucket": bucket,
            "conversation_id": conversation.id,
            "first_event_ms": done["first_event_ms"],
        },
    )
    try:
        state.outbox.write(state.repo, "insert_transcripts", [record])
    except StoreError as exc:
        log.warning("transcript not kept: %s", exc.code)
