"""API tokens: created by admins, shown once, stored only as a SHA-256 fingerprint in the KV.

``om:tokens`` maps each fingerprint to the token's JSON record. A token is 32 random bytes,
so a plain SHA-256 is enough: there is nothing to brute-force, unlike a password.
``last_used`` lives in its own hash (``om:tokens:last_used``), written at most every few
minutes per token and instance; were it inside the record, a late write could resurrect a
revoked token.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from lib.errors import NotFound
from lib.http.credentials import Role, fingerprint

if TYPE_CHECKING:
    from lib.clock import Clock
    from lib.store.kv import Kv

TOKENS_KEY = "om:tokens"
LAST_USED_KEY = "om:tokens:last_used"
TOKEN_PREFIX = "om_"
LAST_USED_EVERY_S = 300.0

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ApiToken(BaseModel):
    """What is known about a token; never the token itself."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: TokenName
    role: Role
    created_at: datetime
    created_by: str
    last_used: datetime | None = None


class TokenStore:
    """The API tokens in the KV."""

    def __init__(self, kv: Kv, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock
        # When this instance last wrote each token's last_used: one write per token per
        # LAST_USED_EVERY_S per warm instance, and no extra read on the request path.
        self._last_written: dict[str, float] = {}

    def create(self, name: str, role: Role, created_by: str) -> tuple[str, ApiToken]:
        """A new token and its record; the token is returned here and never again."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = fingerprint(token)
        record = ApiToken(
            id=digest[:16], name=name, role=role, created_at=self._now(), created_by=created_by
        )
        self._kv.hset(TOKENS_KEY, {digest: record.model_dump_json(exclude={"last_used"})})
        return token, record

    def authenticate(self, token: str) -> ApiToken | None:
        """The record of ``token``, or ``None`` when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = fingerprint(token)
        raw = self._kv.hget(TOKENS_KEY, digest)
        if raw is None:
            return None
        now = self._clock.now()
        if now - self._last_written.get(digest, float("-inf")) >= LAST_USED_EVERY_S:
            self._kv.hset(LAST_USED_KEY, {digest: repr(now)})
            self._last_written[digest] = now
        return ApiToken.model_validate_json(raw)

    def list_all(self) -> list[ApiToken]:
        """Every live token, oldest first."""
        used = self._kv.hgetall(LAST_USED_KEY)
        tokens = [
            ApiToken.model_validate({**json.loads(raw), "last_used": _when(used.get(digest))})
            for digest, raw in self._kv.hgetall(TOKENS_KEY).items()
        ]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    def revoke(self, token_id: str) -> ApiToken:
        """Forget the token with ``token_id``; ``NotFound`` if there is none."""
        for digest, raw in self._kv.hgetall(TOKENS_KEY).items():
            if digest[:16] == token_id:
                self._kv.hdel(TOKENS_KEY, digest)
                self._kv.hdel(LAST_USED_KEY, digest)
                return ApiToken.model_validate_json(raw)
        raise NotFound(f"no token {token_id!r}", token_id=token_id)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)


def _when(stamp: str | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(float(stamp), UTC)
