"""Who is calling, and may they: the FastAPI dependencies every route uses.

Credentials, in order:

1. ``Authorization: Bearer <secret>``: ``ADMIN_TOKEN`` (admin), ``CRON_SECRET`` (may only
   tick), or an API token from the KV (its role). A bearer that matches none is a 401, even
   on a public read: a caller who sends credentials wants to know they are wrong.
2. The ``om_session`` cookie of a dashboard login (the user's role). Unsafe methods must echo
   the session's CSRF token in ``X-CSRF-Token``, else 403. An unknown or expired session
   cookie counts as no credentials.

Dependencies (use with ``Depends``): ``principal`` (who, or ``None``), ``require(role)``
(at least ``role``: 401 without credentials, 403 with too small a role), ``read_access``
(anyone while ``PUBLIC_READ`` is on, else a viewer), ``tick_access`` (``CRON_SECRET`` or an
operator).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from lib.errors import AuthError, Forbidden, RateLimited
from lib.http.auth_failures import LIMITER as AUTH_FAILURES
from lib.http.client_ip import client_ip
from lib.http.credentials import Principal, Role, role_allows, same_secret
from lib.http.sessions import CSRF_HEADER, SESSION_COOKIE
from lib.http.state import AppState, get_state

__all__ = [
    "Principal",
    "Role",
    "principal",
    "read_access",
    "require",
    "tick_access",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="ADMIN_TOKEN, CRON_SECRET or an API token.")
_session = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Dashboard session (POST /api/auth/login)."
)


def _from_bearer(state: AppState, secret: str) -> Principal:
    settings = state.settings
    if settings.admin_token and same_secret(secret, settings.admin_token.get_secret_value()):
        return Principal(id="admin-token", name="ADMIN_TOKEN", role="admin", via="admin_token")
    if settings.cron_secret and same_secret(secret, settings.cron_secret.get_secret_value()):
        return Principal(id="cron", name="CRON_SECRET", role=None, via="cron_secret")
    token = state.tokens.authenticate(secret)
    if token is None:
        raise AuthError("invalid or revoked token")
    return Principal(id=f"token:{token.id}", name=token.name, role=token.role, via="api_token")


def _from_session(state: AppState, request: Request, session_id: str) -> Principal | None:
    session = state.sessions.get(session_id)
    if session is None:
        return None
    csrf_ok = request.method in SAFE_METHODS or same_secret(
        request.headers.get(CSRF_HEADER, ""), session.csrf
    )
    return Principal(
        id=f"user:{session.username}",
        name=session.username,
        role=session.role,
        via="session",
        csrf_ok=csrf_ok,
    )


def principal(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    session_id: Annotated[str | None, Security(_session)],
) -> Principal | None:
    """Who the request acts as, or ``None`` for an anonymous request.

    A bearer from an address with too many recent failures is refused (429) before the KV is
    asked about it (``lib.http.auth_failures``).
    """
    if bearer is not None:
        address = client_ip(request, state.trusted_proxies)
        try:
            state.failed_auth.check(address)
        except RateLimited:
            state.metrics.rate_limited.labels(limiter=AUTH_FAILURES).inc()
            raise
        try:
            return _from_bearer(state, bearer.credentials)
        except AuthError:
            state.failed_auth.failed(address)
            raise
    if "authorization" in request.headers:
        raise AuthError("use Authorization: Bearer <token>")
    if session_id:
        return _from_session(state, request, session_id)
    return None


def _checked(who: Principal | None, need: Role) -> Principal:
    if who is None:
        raise AuthError("authentication required")
    if not who.csrf_ok:
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header", reason="csrf")
    if not role_allows(who.role, need):
        raise Forbidden(f"needs the {need} role", needed=need, role=who.role)
    return who


@cache
def require(role: Role) -> Callable[[Principal | None], Principal]:
    """A dependency admitting principals with at least ``role``; it returns the principal.

    ``Depends(require("operator"))``; the same callable is returned for the same role.
    """

    def dependency(who: Annotated[Principal | None, Depends(principal)]) -> Principal:
        return _checked(who, role)

    dependency.__name__ = f"require_{role}"
    return dependency


def read_access(
    state: Annotated[AppState, Depends(get_state)],
    who: Annotated[Principal | None, Depends(principal)],
) -> Principal | None:
    """Anyone while ``PUBLIC_READ`` is on; otherwise at least a viewer."""
    if state.settings.public_read:
        return who
    return _checked(who, "viewer")


def tick_access(who: Annotated[Principal | None, Depends(principal)]) -> Principal:
    """``Authorization: Bearer $CRON_SECRET`` (what Vercel Cron sends) or an operator."""
    if who is not None and who.via == "cron_secret":
        return who
    return _checked(who, "operator")
