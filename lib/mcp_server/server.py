"""The MCP server over the Streamable HTTP transport, stateless, on the SDK's low-level server.

Stateless: each POST gets a fresh transport and session manager, runs, and ends, so any
function instance can answer any request (no session id, no server-to-client stream).
Responses are JSON rather than SSE: every tool answers at once.

The low-level server rather than ``FastMCP`` because the tools are described by the REST
models themselves (``tools.TOOLS``): input and output schemas come from pydantic, and
arguments are validated by pydantic so that an error names the field as the REST API does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

import anyio.to_thread
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyUrl, BaseModel
from pydantic import ValidationError as PydanticValidationError

from lib.config import VERSION
from lib.errors import OpenManagerError, StoreError
from lib.http.credentials import role_allows
from lib.mcp_server.calls import McpCall
from lib.mcp_server.resources import CATALOGUE, RESOURCES, TOPOLOGY, catalogue, topology
from lib.mcp_server.tools import TOOLS, TOOLS_BY_NAME, Tool

log = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

NAME = "openmanager"
INSTRUCTIONS = (
    "OpenManager monitors a server fleet. Read tools answer about the fleet now (or a past "
    "moment where a tool takes one); operator tools change it and are audited. Every tool "
    "takes lang=ko|en for its text summary; structured results carry the numbers."
)
_CALL: ContextVar[McpCall] = ContextVar("mcp_call")


def _schema(model: type[BaseModel], mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode=mode, by_alias=True)  # type: ignore[arg-type]
    schema.setdefault("type", "object")
    return schema


def _describe(tool: Tool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        inputSchema=_schema(tool.input, "validation"),
        outputSchema=_schema(tool.output, "serialization"),
        annotations=types.ToolAnnotations(
            title=tool.title,
            readOnlyHint=tool.read_only,
            destructiveHint=not tool.read_only,
            idempotentHint=tool.read_only,
            openWorldHint=False,
        ),
    )


def _refusal(message: str, code: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)],
        structuredContent={"error": {"code": code, "message": message}},
        isError=True,
    )


def _field_errors(exc: PydanticValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{field}: {error['msg']}")
    return "invalid arguments: " + "; ".join(parts)


def _run(call: McpCall, tool: Tool, arguments: dict[str, Any]) -> types.CallToolResult:
    """Validate, authorise, run and summarise one tool call; every failure is a tool error."""
    try:
        args = tool.input.model_validate(arguments)
        if tool.role is not None:
            call.require(tool.role)
        result = tool.run(call, args)
    except PydanticValidationError as exc:
        return _refusal(_field_errors(exc), "validation_error")
    except StoreError as exc:
        log.warning("MCP tool %s: %s", tool.name, exc.message)
        return _refusal("a store did not answer; try again shortly", exc.code)
    except OpenManagerError as exc:
        return _refusal(exc.message, exc.code)
    except Exception:
        log.exception("MCP tool %s failed", tool.name)
        return _refusal("internal error; the server log has the details", "internal_error")
    text = tool.summary(result)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=getattr(text, args.lang or "en"))],
        structuredContent=result.model_dump(mode="json", by_alias=True),
        isError=False,
    )


def _visible(call: McpCall) -> list[Tool]:
    """The tools the caller may use: operator tools are listed only to operators."""
    who = call.principal
    return [t for t in TOOLS if t.role is None or (who and role_allows(who.role, t.role))]


def build_server() -> Server[Any, Any]:
    server: Server[Any, Any] = Server(NAME, version=VERSION, instructions=INSTRUCTIONS)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [_describe(t) for t in _visible(_CALL.get())]

    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        tool = TOOLS_BY_NAME.get(name)
        if tool is None:
            return _refusal(f"no tool named {name!r}", "not_found")
        call = _CALL.get()
        return await anyio.to_thread.run_sync(_run, call, tool, arguments)

    @server.list_resources()
    async def list_resources() -> list[types.Resource]:
        return [
            types.Resource(
                uri=AnyUrl(r.uri),
                name=r.name,
                description=r.description,
                mimeType="application/json",
            )
            for r in RESOURCES
        ]

    @server.read_resource()
    async def read_resource(uri: AnyUrl) -> str:
        if str(uri) == CATALOGUE.uri:
            return json.dumps([e.model_dump(mode="json") for e in catalogue()])
        if str(uri) == TOPOLOGY.uri:
            return topology(_CALL.get().state.engine.fleet).model_dump_json()
        raise ValueError(f"no resource {uri}")

    return server


_SERVER = build_server()
# The app authenticates and sets CORS itself; the SDK's Host/Origin checks are for servers
# bound to localhost without credentials.
_SECURITY = TransportSecuritySettings(enable_dns_rebinding_protection=False)


async def handle(call: McpCall, scope: Message, receive: Receive) -> tuple[int, list, bytes]:
    """Answer one MCP POST for ``call``: the status, headers and body of the response."""
    manager = StreamableHTTPSessionManager(
        app=_SERVER, json_response=True, stateless=True, security_settings=_SECURITY
    )
    sent: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    token = _CALL.set(call)
    try:
        async with manager.run():
            await manager.handle_request(dict(scope), receive, send)
    finally:
        _CALL.reset(token)
    return sent["status"], sent["headers"], sent["body"]
