"""Rate limits per client (token, user or IP) as FastAPI dependencies.

The limiters themselves, and the sliding window they share with upstash-ratelimit, are in
``lib.store.limiters``; the app gets them from the store factory (``AppState.limiters``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from lib.errors import RateLimited
from lib.http.auth import principal
from lib.http.client_ip import client_ip
from lib.http.credentials import Principal
from lib.http.state import AppState, get_state
from lib.store.limiters import LIMITS


def count(
    state: AppState, name: str, who: Principal | None, ip: str, *, shared: bool = True
) -> None:
    """Count one request of ``who`` (or of address ``ip``) against limiter ``name``."""
    if who is not None and state.limiters.limits[name].per == "client":
        identifier = who.id
    else:
        identifier = f"ip:{ip}"
    try:
        state.limiters.check(name, identifier, shared=shared)
    except RateLimited:
        state.metrics.rate_limited.labels(limiter=name).inc()
        raise


def rate_limit(name: str) -> Callable[..., None]:
    """A dependency counting the request against limiter ``name`` (a key of ``LIMITS``).

    ``dependencies=[Depends(rate_limit("ai"))]``. Clients are told apart by principal (token,
    user) when authenticated, else by IP address; ``per="ip"`` limits always use the address.
    """
    if name not in LIMITS:
        raise KeyError(f"no rate limit named {name!r}; known: {sorted(LIMITS)}")

    def dependency(
        request: Request,
        state: Annotated[AppState, Depends(get_state)],
        who: Annotated[Principal | None, Depends(principal)],
    ) -> None:
        anonymous_read = who is None and request.method in ("GET", "HEAD") and name == "api"
        count(
            state, name, who, client_ip(request, state.trusted_proxies), shared=not anonymous_read
        )

    dependency.__name__ = f"rate_limit_{name}"
    return dependency


api_rate_limit = rate_limit("api")
login_rate_limit = rate_limit("login")
ai_rate_limit = rate_limit("ai")
