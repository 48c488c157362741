"""Dashboard users: argon2id password hashes and optional TOTP, in the KV hash ``om:users``.

Admins create users through the API (the first admin acts with ``ADMIN_TOKEN``). Logging in
checks the password first, against a dummy hash when the user does not exist, so a wrong
username and a wrong password cost the same and read the same. Only after the right password
does the answer say a TOTP code is needed. A TOTP code is accepted once: a replay within its
validity is refused.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lib.errors import AuthError, Conflict, NotFound
from lib.http.credentials import Role

if TYPE_CHECKING:
    from lib.clock import Clock
    from lib.store.kv import Kv

USERS_KEY = "om:users"
TOTP_ISSUER = "OpenManager"
# A code is valid for its 30 s step and one step either side (clock skew): 90 s in all.
TOTP_REPLAY_MS = 90_000

Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{2,63}$")]
# The upper bound keeps one request from making argon2 hash megabytes.
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class User(BaseModel):
    """A dashboard user as the API shows it."""

    model_config = ConfigDict(frozen=True)

    username: Username
    role: Role
    created_at: datetime
    created_by: str
    totp_enabled: bool


class _StoredUser(User):
    password_hash: str
    totp_secret: str | None = None

    def public(self) -> User:
        return User.model_validate(self.model_dump(include=set(User.model_fields)))


class NewUser(BaseModel):
    """What an admin sends to create a user."""

    model_config = ConfigDict(extra="forbid", strict=True)

    username: Username = Field(description="Lower-case letters, digits, '_', '.', '-'; 3-64.")
    password: Password = Field(description="12 to 256 characters.")
    role: Role
    totp: bool = Field(False, description="Enrol a TOTP second factor (URI returned once).")


class UserStore:
    """The users in the KV."""

    def __init__(self, kv: Kv, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._kv = kv
        self._clock = clock
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile

    def create(self, new: NewUser, created_by: str) -> tuple[User, str | None]:
        """Store a user; returns it and, with TOTP, the provisioning URI (shown once)."""
        if self._kv.hget(USERS_KEY, new.username) is not None:
            raise Conflict(f"user {new.username!r} exists", username=new.username)
        totp_secret = pyotp.random_base32() if new.totp else None
        stored = _StoredUser(
            username=new.username,
            role=new.role,
            created_at=datetime.fromtimestamp(self._clock.now(), UTC),
            created_by=created_by,
            totp_enabled=totp_secret is not None,
            password_hash=self._hasher.hash(new.password),
            totp_secret=totp_secret,
        )
        self._kv.hset(USERS_KEY, {new.username: stored.model_dump_json()})
        uri = None
        if totp_secret is not None:
            uri = pyotp.TOTP(totp_secret).provisioning_uri(
                name=new.username, issuer_name=TOTP_ISSUER
            )
        return stored.public(), uri

    def verify(self, username: str, password: str, totp: str | None) -> User:
        """The user these credentials prove, or ``AuthError``.

        ``details['totp_required']`` is set when only the TOTP code is missing.
        """
        raw = self._kv.hget(USERS_KEY, username)
        stored = None if raw is None else _StoredUser.model_validate_json(raw)
        try:
            self._hasher.verify(stored.password_hash if stored else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            stored = None
        if stored is None:
            raise AuthError("invalid username or password")
        if stored.totp_secret is not None:
            if not totp:
                raise AuthError("a TOTP code is required", totp_required=True)
            if not self._totp_fresh(stored, totp):
                raise AuthError("invalid TOTP code")
        return stored.public()

    def list_all(self) -> list[User]:
        users = (
            _StoredUser.model_validate_json(raw) for raw in self._kv.hgetall(USERS_KEY).values()
        )
        return sorted((u.public() for u in users), key=lambda u: u.username)

    def delete(self, username: str) -> User:
        raw = self._kv.hget(USERS_KEY, username)
        if raw is None or not self._kv.hdel(USERS_KEY, username):
            raise NotFound(f"no user {username!r}", username=username)
        return _StoredUser.model_validate_json(raw).public()

    def _totp_fresh(self, stored: _StoredUser, code: str) -> bool:
        assert stored.totp_secret is not None
        valid = pyotp.TOTP(stored.totp_secret).verify(
            code, for_time=datetime.fromtimestamp(self._clock.now(), UTC), valid_window=1
        )
        replay_key = f"om:totp-used:{stored.username}:{code}"
        return valid and self._kv.set(replay_key, "1", nx=True, px=TOTP_REPLAY_MS)

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash no password matches, verified against when the user does not exist."""
        return self._hasher.hash(secrets.token_urlsafe(32))
