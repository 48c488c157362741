"""``create_app``: the one FastAPI app, assembled from parts passed in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from lib.clock import Clock, SystemClock
from lib.config import VERSION, Settings, load_settings
from lib.http.errors import install_error_handlers
from lib.http.routes import health
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

    app = FastAPI(
        title="OpenManager",
        version=VERSION,
        summary="Server monitoring on a deterministic simulated fleet",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.om = state
    install_error_handlers(app)
    app.include_router(health.router, prefix="/api")
    if serve_public:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=PUBLIC_DIR, html=True), name="public")
    return app
