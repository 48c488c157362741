"""Dashboard sessions: a random id in an HttpOnly cookie, its fingerprint as the KV key.

``om:session:<sha256(id)>`` holds the session (user, role, CSRF token) with a TTL, so a leaked
KV dump does not hand out live cookies. ``om:user-sessions:<username>`` indexes a user's
sessions so that deleting the user ends them at once.

CSRF: the session's random CSRF token is also sent in the readable ``om_csrf`` cookie; the
dashboard echoes it in ``X-CSRF-Token`` on every unsafe request, and the server compares it
with the token stored in the session (not with the cookie, which a sibling subdomain could
set). ``SameSite=Strict`` already keeps other sites' requests from carrying the cookie; the
token is the second lock.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import Response
from pydantic import BaseModel, ConfigDict

from lib.http.credentials import Role, fingerprint

if TYPE_CHECKING:
    from lib.clock import Clock
    from lib.http.users import User
    from lib.store.kv import Kv

SESSION_COOKIE = "om_session"
CSRF_COOKIE = "om_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL_S = 12 * 3600


class Session(BaseModel):
    """One logged-in dashboard."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    csrf: str
    created_at: datetime
    expires_at: datetime


def _key(session_id: str) -> str:
    return f"om:session:{fingerprint(session_id)}"


def _index_key(username: str) -> str:
    return f"om:user-sessions:{username}"


class SessionStore:
    """The sessions in the KV."""

    def __init__(self, kv: Kv, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock

    def open(self, user: User) -> tuple[str, Session]:
        """A new session for ``user``: its id (for the cookie only) and its record."""
        now = self._clock.now()
        session_id = secrets.token_urlsafe(32)
        session = Session(
            username=user.username,
            role=user.role,
            csrf=secrets.token_urlsafe(32),
            created_at=datetime.fromtimestamp(now, UTC),
            expires_at=datetime.fromtimestamp(now + SESSION_TTL_S, UTC),
        )
        self._kv.set(_key(session_id), session.model_dump_json(), px=SESSION_TTL_S * 1000)
        index = _index_key(user.username)
        expired = [k for k, until in self._kv.hgetall(index).items() if float(until) <= now]
        if expired:
            self._kv.hdel(index, *expired)
        self._kv.hset(index, {_key(session_id): repr(now + SESSION_TTL_S)})
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        raw = self._kv.get(_key(session_id))
        return None if raw is None else Session.model_validate_json(raw)

    def close(self, session_id: str, username: str) -> None:
        self._kv.delete(_key(session_id))
        self._kv.hdel(_index_key(username), _key(session_id))

    def close_all(self, username: str) -> int:
        """End every session of ``username``; returns how many were live."""
        index = _index_key(username)
        keys = list(self._kv.hgetall(index))
        ended = self._kv.delete(*keys) if keys else 0
        self._kv.delete(index)
        return ended


def set_session_cookies(response: Response, session_id: str, session: Session) -> None:
    """The session cookie (HttpOnly, API only) and the CSRF cookie (readable by the page)."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_TTL_S,
        path="/api",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf,
        max_age=SESSION_TTL_S,
        path="/",
        secure=True,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/api", secure=True, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=True, samesite="strict")
