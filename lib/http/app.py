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
from lib.http.lazy_routes import LazyRoutes, RouteModule
from lib.http.middleware import App, install_cors
from lib.http.ratelimit import api_rate_limit
from lib.http.state import AppState
from lib.store.factory import open_kv

if TYPE_CHECKING:
    from lib.store.db import Repository
    from lib.store.kv import Kv

PUBLIC_DIR = Path(__file__).resolve().parents[2] / "public"

ROUTES = (
    RouteModule("health", ("/health",)),
    # Accounts: sign-in, API tokens, the audit log and the runtime settings.
    RouteModule("docs", ("/docs",), "accounts"),
    RouteModule("auth", ("/auth",), "accounts"),
    RouteModule("tokens", ("/tokens",), "accounts"),
    RouteModule("audit", ("/audit",), "accounts"),
    RouteModule("settings", ("/settings",), "accounts"),
    # The fleet API: reads, operator actions, the live stream and the Prometheus endpoint.
    RouteModule("fleet", ("/fleet",)),
    RouteModule("servers", ("/servers",)),
    RouteModule("incidents", ("/incidents",)),
    RouteModule("alerts", ("/alerts",)),
    RouteModule("analytics", ("/analytics",)),
    RouteModule("operations", ("/tick", "/incidents", "/alerts")),
    RouteModule("stream", ("/stream",)),
    RouteModule("metrics", ("/metrics",)),
    # The same reads and actions as MCP tools, for operators' own AI clients.
    RouteModule("mcp", ("/mcp",), "none"),
    RouteModule("ai", ("/ai",)),
    # Web Push: the VAPID key, subscriptions, the test notification.
    RouteModule("push", ("/push",)),
)
"""Every route module, in matching order; each is imported on the first request it serves."""


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
    app.lazy_routes = LazyRoutes(app, ROUTES)
    install_error_handlers(app)
    # Bodies are limited before anything parses them; CORS, added after, wraps the 413 too.
    app.add_middleware(BodyGuard)
    install_cors(app, settings.cors_origins)
    if serve_public:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=PUBLIC_DIR, html=True), name="public")
    return app
