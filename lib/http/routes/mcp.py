"""``POST /api/mcp``: the Model Context Protocol server, for operators' own AI clients.

Streamable HTTP, stateless: each POST carries one JSON-RPC message and gets a JSON answer, so
any function instance answers any request. Authentication, rate limits and the audit log are
the REST API's: ``Authorization: Bearer`` with an API token (viewer for the read tools,
operator for the tools that change the fleet), anonymous reads while ``PUBLIC_READ`` is on.
The SDK is imported on the first request here, not at cold start.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from lib.http.audit import Audit
from lib.http.auth import Principal, read_access
from lib.http.client_ip import client_ip
from lib.http.errors import error_body
from lib.http.schemas.errors import error_responses
from lib.http.state import AppState, get_state

router = APIRouter(tags=["mcp"])

_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": "A JSON-RPC 2.0 message (MCP)."}
        }
    },
}
_JSON_RPC = {"application/json": {"schema": {"type": "object"}}}
_ANSWER = {"description": "The JSON-RPC answer.", "content": _JSON_RPC}
_TRANSPORT_ERRORS = {
    status: {
        "description": f"Refused by the transport ({why}): a JSON-RPC error.",
        "content": _JSON_RPC,
    }
    for status, why in (
        (400, "not a JSON-RPC message"),
        (406, "Accept must allow application/json and text/event-stream"),
        (413, "body too large"),
        (415, "Content-Type must be application/json"),
    )
}


@router.post(
    "/mcp",
    openapi_extra={"requestBody": _BODY},
    responses={200: _ANSWER, 202: {"description": "Notification accepted."}}
    | _TRANSPORT_ERRORS
    | error_responses(401, 429, 503),
)
async def mcp_endpoint(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    who: Annotated[Principal | None, Depends(read_access)],
    audit: Audit,
) -> Response:
    """One MCP message: ``initialize``, ``tools/list``, ``tools/call``, ``resources/read``…"""
    from lib.mcp_server.calls import McpCall
    from lib.mcp_server.server import handle

    call = McpCall(state, who, audit, client_ip(request, state.trusted_proxies))
    status, headers, body = await handle(call, request.scope, request.receive)
    if status >= 400 and not any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
        # The transport refuses some requests in plain text: say it in the API's JSON shape.
        refusal = body.decode("utf-8", "replace").strip()[:200] or "refused by the MCP transport"
        return JSONResponse(
            error_body("bad_request" if status == 400 else "mcp_transport", refusal),
            status,
            headers={"Cache-Control": "no-store"},
        )
    response = Response(body, status_code=status)
    for name, value in headers:
        key = name.decode("latin-1").lower()
        if key in ("content-type", "mcp-protocol-version"):
            response.headers[key] = value.decode("latin-1")
    response.headers["Cache-Control"] = "no-store"
    return response
