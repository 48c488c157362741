"""``create_app``: the one FastAPI app, assembled from parts passed in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

from lib.clock import Clock, SystemClock
from lib.config import VERSION, Settings, load_settings
from lib.http.bodies import BodyGuard
from lib.http.errors import install_error_handlers
from lib.http.middleware import App, install_cors
from lib.http.ratelimit import api_rate_limit
from lib.http.routes import (
    ai,
    alerts,
    analytics,
    audit,
    auth,
    docs,
    fleet,
    health,
    incidents,
    mcp,
    metrics,
    operations,
    push,
    servers,
    stream,
    tokens,
)
from lib.http.routes import settings as settings_routes
from lib.http.schemas.errors import error_responses
from lib.http.state import AppState
from lib.store.factory import open_kv

if TYPE_CHECKING:
    from lib.store.db import Repository
    from lib.store.kv import Kv

PUBLIC_DIR = Path(__file__).resolve().parents[2] / "public"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    kv: Kv | None = None,
    repo: Repository | None = None,
    serve_public: bool = False,
) -> FastAPI:
    """Build the app. Only here are ``Settings`` read from the environment.

    The state is built now rather than in the lifespan: a serverless platform may call the
    app without running lifespan events, and every store client here is cheap to construct.
    ``serve_public`` mounts ``public/`` at ``/`` for local runs; on Vercel the CDN serves it.
    """
    settings = settings or load_settings()
    state = AppState(
        settings=settings,
        clock=clock or SystemClock(),
        kv=kv or open_kv(settings),
        injected_repo=repo,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    # ``App``: security headers and request metrics wrap even the error middleware.
    # Every route counts against the general rate limit; /api/docs is ours (its own CSP).
    app = App(
        title="OpenManager",
        version=VERSION,
        summary="Server monitoring on a deterministic simulated fleet",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(api_rate_limit)],
    )
    app.state.om = state
    install_error_handlers(app)
    # Bodies are limited before anything parses them; CORS, added after, wraps the 413 too.
    app.add_middleware(BodyGuard)
    install_cors(app, settings.cors_origins)
    # Any route may answer these: a malformed Authorization header (401), a body that is
    # not JSON (400), too large (413) or not valid (422), the rate limit (429), a store that is
    # down (503).
    everywhere = error_responses(400, 401, 413, 422, 429, 503)
    app.include_router(health.router, prefix="/api", responses=everywhere)
    accounts = everywhere | error_responses(403, 404, 409)
    for module in (docs, auth, tokens, audit, settings_routes):
        app.include_router(module.router, prefix="/api", responses=accounts)
    # The fleet API: reads, operator actions, the live stream and the Prometheus endpoint.
    for module in (fleet, servers, incidents, alerts, analytics, operations, stream, metrics):
        app.include_router(module.router, prefix="/api", responses=everywhere)
    # The same reads and actions as MCP tools, for operators' own AI clients.
    app.include_router(mcp.router, prefix="/api")
    app.include_router(ai.router, prefix="/api", responses=everywhere)
    # Web Push: the VAPID key, subscriptions, the test notification.
    app.include_router(push.router, prefix="/api", responses=everywhere)
    if serve_public:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=PUBLIC_DIR, html=True), name="public")
    return app
