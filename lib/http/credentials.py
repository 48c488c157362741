"""Roles, the principal a request acts as, and the two secret-handling primitives.

Roles are ordered ``viewer < operator < admin``: a role allows everything the ones below it do.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")

Via = Literal["admin_token", "api_token", "session", "cron_secret"]


def role_allows(have: Role | None, need: Role) -> bool:
    """Whether ``have`` is at least ``need``; no role allows nothing."""
    return have is not None and ROLES.index(have) >= ROLES.index(need)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as.

    ``id`` is what the audit log records as the actor: ``user:<name>``, ``token:<id>``,
    ``admin-token`` or ``cron``. The cron secret has no role: it may only tick.
    ``csrf_ok`` is false for a cookie session whose unsafe request lacks the CSRF token.
    """

    id: str
    name: str
    role: Role | None
    via: Via
    csrf_ok: bool = True


def fingerprint(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret: what is stored and looked up instead of it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality that does not leak the expected length either."""
    return hmac.compare_digest(fingerprint(given), fingerprint(expected))
