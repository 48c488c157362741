"""Security headers, request metrics and CORS: what wraps every route.

``App`` puts the headers and the metrics outside Starlette's ``ServerErrorMiddleware``: an
unexpected exception's 500 is sent by that middleware straight to the server, past anything
``add_middleware`` installs, and it too must carry the headers and be counted.

The Content-Security-Policy allows no inline script and nothing from other origins. A route
that needs more sets its own header (only ``/api/docs`` does); it is kept, not overwritten.
``vercel.json`` sends the same headers with the static files of ``public/``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.clock import MonotonicTimer
from lib.http.errors import error_body

if TYPE_CHECKING:
    from lib.http.lazy_routes import LazyRoutes
    from lib.http.metrics import AppMetrics

UNMATCHED_ROUTE = "unmatched"
"""The route label of requests no route matched: raw paths would explode the label set."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


def _is_https(scope: Scope) -> bool:
    # Vercel terminates TLS and says so in x-forwarded-proto. A spoofed value only adds HSTS
    # to a plain-HTTP response, which browsers ignore.
    proto = Headers(scope=scope).get("x-forwarded-proto", "")
    return scope.get("scheme") == "https" or proto.split(",")[0].strip() == "https"


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` (and HSTS on HTTPS) to every response lacking them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = _is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestMetrics:
    """Counts each request and its duration by method, route template and status class.

    Labels come from a map of the ``id`` of each route's endpoint to the route's full path
    template. The router leaves the endpoint in the scope for every kind of route, while the
    route itself is there only for API routes and, kept as declared in its router, lacks the
    include prefix. The map is rebuilt when ``routes()`` returns a new list (lazy inclusion).
    """

    def __init__(
        self, app: ASGIApp, metrics: AppMetrics, routes: Callable[[], list[BaseRoute]]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self._routes = routes
        self._mapped: list[BaseRoute] | None = None
        self._templates: dict[int, str] = {}

    def templates(self) -> dict[int, str]:
        routes = self._routes()
        if routes is not self._mapped:
            self._templates = {
                id(ctx.endpoint): ctx.path_format
                for ctx in iter_route_contexts(routes)
                if ctx.endpoint is not None and ctx.path_format
            }
            self._mapped = routes
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timer = MonotonicTimer()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # The router stores what it matched in the scope it was handed: this same dict.
            label = self.templates().get(id(scope.get("endpoint")), UNMATCHED_ROUTE)
            self.metrics.observe_request(scope["method"], label, status, timer.elapsed_s())


class App(FastAPI):
    """FastAPI with ``SecurityHeaders`` and ``RequestMetrics`` outside the error middleware,
    and route modules included on demand (``lazy_routes``).

    Starlette builds the stack on the first request; the metrics come from ``app.state.om``
    (the ``AppState``), set by then.
    """

    lazy_routes: LazyRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.lazy_routes is not None and scope["type"] in ("http", "websocket"):
            self.lazy_routes.ensure(scope["path"])
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.lazy_routes is not None:
            self.lazy_routes.ensure_all()
        return super().openapi()

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        return RequestMetrics(SecurityHeaders(inner), self.state.om.metrics, lambda: self.routes)


class JsonCors(CORSMiddleware):
    """Starlette's CORS, with a refused preflight in the API's JSON error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette says which parts it refused, e.g. "Disallowed CORS origin, headers".
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
        kept = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        return JSONResponse(
            error_body("cors_rejected", "cross-origin request refused", {"refused": refused}),
            response.status_code,
            headers=kept,
        )


def install_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Allow cross-origin calls from ``origins`` only; with none, CORS stays closed.

    Credentials (cookies) are never allowed cross-origin: other origins use bearer tokens.
    """
    if not origins:
        return
    app.add_middleware(
        JsonCors,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        expose_headers=["Retry-After"],
        allow_credentials=False,
        max_age=600,
    )
