"""The one place that turns exceptions into an HTTP status and the JSON error shape.

Every error body is ``{"error": {"code", "message", "details"}}``. Anything not raised on
purpose becomes a bare 500 carrying a request id; the traceback goes to the log only.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from lib import errors

log = logging.getLogger("openmanager.http")

STATUS: dict[type[errors.OpenManagerError], int] = {
    errors.ConfigError: 500,
    errors.ValidationError: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.AuthError: 401,
    errors.RateLimited: 429,
    errors.StoreTimeout: 504,
    errors.StoreError: 503,
    errors.UpstreamError: 502,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


# What a server-side failure says to the caller: the same words every time. The store's or
# the upstream's own text (hosts, ports, SQL, file paths) goes to the log only.
PUBLIC_MESSAGES = {
    "store_unavailable": "a data store is unavailable; try again shortly",
    "store_timeout": "a data store did not answer in time; try again shortly",
    "store_error": "a data store refused the request",
    "upstream_error": "an upstream service failed; try again shortly",
    "config_error": "the server is not configured for this",
}
MALFORMED = "\x00openmanager:malformed-json:"
"""Starts the JSON string ``lib.http.bodies`` puts in place of a body that does not parse."""
# Details a server-side failure may show: which store, which setting; nothing else.
PUBLIC_DETAILS = ("backend", "variable")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def public_error(exc: errors.OpenManagerError, where: str) -> dict[str, Any]:
    """The error body of ``exc`` for a caller: its own words for a 4xx; for a 5xx a stable
    message and the public details, with the full message logged (``where`` says where)."""
    details = {k: v for k, v in exc.details.items() if v is not None}
    if status_of(exc) < 500:
        return error_body(exc.code, exc.message, details)
    log.warning("%s on %s: %s %s", exc.code, where, exc.message, details)
    public = {k: details[k] for k in PUBLIC_DETAILS if k in details}
    return error_body(exc.code, PUBLIC_MESSAGES.get(exc.code, "internal error"), public)


def status_of(exc: errors.OpenManagerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.OpenManagerError)
    status = status_of(exc)
    headers = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, errors.AuthError) and not isinstance(exc, errors.Forbidden):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(public_error(exc, request.url.path), status, headers=headers)


def _malformed_json(errors_: list[Any]) -> str | None:
    """Why the body is not JSON, when that is the problem (see ``lib.http.bodies``)."""
    for err in errors_:
        found = err.get("input")
        if isinstance(found, str) and found.startswith(MALFORMED):
            return found.removeprefix(MALFORMED)
        if err.get("type") == "json_invalid":
            return str(err.get("ctx", {}).get("error", "invalid JSON"))
    return None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reason = _malformed_json(list(exc.errors()))
    if reason is not None:
        return JSONResponse(
            error_body("bad_request", f"the body is not valid JSON: {reason}", {"in": "body"}),
            400,
        )
    problems = [
        {
            # ``in`` says where (query, path, body, header); ``field`` names what, plainly.
            "field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]),
            "in": str(err["loc"][0]) if err["loc"] else "body",
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    fields = ", ".join(p["field"] for p in problems)
    return JSONResponse(
        error_body("validation_error", f"invalid input: {fields}", {"problems": problems}), 422
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path; Starlette's 405 names one route's only."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return JSONResponse(error_body(code, message), exc.status_code, headers=headers or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex[:16]
    log.error("unhandled error %s on %s", request_id, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal", "internal error", {"request_id": request_id}), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.OpenManagerError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
