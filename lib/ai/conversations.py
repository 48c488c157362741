"""Conversations in the KV: the last query and the earlier questions, kept for a TTL.

A follow-up (``그럼 메모리는?``) is parsed against the last query; the model sees the earlier
questions. One ``GET`` and one ``SET`` per question, the key expiring on its own.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lib.ai.intents import Query

if TYPE_CHECKING:
    from lib.store.kv import Kv

KEY_PREFIX = "om:ai:conv:"
MAX_QUESTIONS = 6


@dataclass(frozen=True)
class Conversation:
    id: str
    last: Query | None = None
    questions: tuple[str, ...] = field(default=())


def new_id() -> str:
    return "c-" + secrets.token_urlsafe(12)


def load(kv: Kv, conversation_id: str | None) -> Conversation:
    """The stored conversation, or a new one when the id is unknown, expired or absent."""
    if not conversation_id:
        return Conversation(new_id())
    raw = kv.get(KEY_PREFIX + conversation_id)
    if raw is None:
        return Conversation(conversation_id)
    data = json.loads(raw)
    last = Query.from_dict(data["last"]) if data.get("last") else None
    return Conversation(conversation_id, last, tuple(data.get("questions", ())))


def save(kv: Kv, conversation: Conversation, query: Query, question: str, ttl_s: int) -> None:
    questions = (*conversation.questions, question)[-MAX_QUESTIONS:]
    body = json.dumps({"last": query.to_dict(), "questions": questions}, ensure_ascii=False)
    kv.set(KEY_PREFIX + conversation.id, body, px=ttl_s * 1000)
