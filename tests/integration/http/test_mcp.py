"""``/api/mcp`` through the MCP SDK's own client over Streamable HTTP, against the app served
on a loopback port: the tools' numbers are the REST API's at the same bucket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from lib.clock import FixedClock
from lib.http.app import create_app
from lib.http.routes.ai import AskAnswer
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import (
    ADMIN,
    ADMIN_TOKEN,
    assert_error,
    bearer,
    https_client,
    make_settings,
    mint_token,
)
from tests.support.app_server import AppServer

READ_TOOLS = {
    "fleet_overview",
    "list_servers",
    "server_detail",
    "metric_history",
    "list_incidents",
    "incident_detail",
    "list_alerts",
    "forecast",
    "correlations",
    "ask",
}
OPERATOR_TOOLS = {"inject_failure", "resolve_incident", "acknowledge_alert"}

Session = Callable[[ClientSession], Awaitable[Any]]


class Served:
    """The app on a loopback port, its clock, and a REST client that goes over HTTP too."""

    def __init__(self, app: FastAPI, clock: FixedClock, url: str) -> None:
        self.app, self.clock, self.url = app, clock, url

    def rest(self, path: str, token: str | None = ADMIN_TOKEN, **params: Any) -> Any:
        headers = bearer(token) if token else {}
        response = httpx.get(self.url + path, params=params, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def mcp(self, use: Session, token: str | None = ADMIN_TOKEN) -> Any:
        async def run() -> Any:
            headers = bearer(token) if token else {}
            async with (
                httpx.AsyncClient(headers=headers, timeout=10) as http,
                streamable_http_client(self.url + "/api/mcp", http_client=http) as (r, w, _),
                ClientSession(r, w) as session,
            ):
                await session.initialize()
                return await use(session)

        return asyncio.run(run())

    def call(self, tool: str, arguments: dict[str, Any], token: str | None = ADMIN_TOKEN) -> Any:
        async def use(session: ClientSession) -> CallToolResult:
            return await session.call_tool(tool, arguments)

        return self.mcp(use, token)


def _serve(tmp_path: Path, **settings: Any) -> Iterator[Served]:
    clock = FixedClock(1_800_000_000.0)
    app = create_app(make_settings(tmp_path, **settings), clock=clock, kv=MemoryKv())
    with AppServer(app) as server:
        yield Served(app, clock, server.url)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path)


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.isError, result.content
    assert result.content[0].type == "text"
    assert result.content[0].text
    assert result.structuredContent is not None
    return result.structuredContent


def refused(result: CallToolResult, code: str) -> str:
    assert result.isError
    assert result.structuredContent == {"error": {"code": code, "message": result.content[0].text}}
    return result.content[0].text


def test_tools_are_listed_with_schemas_and_operator_tools_only_to_operators(
    served: Served,
) -> None:
    async def names(session: ClientSession) -> dict[str, Any]:
        return {t.name: t for t in (await session.list_tools()).tools}

    as_admin = served.mcp(names)
    assert set(as_admin) == READ_TOOLS | OPERATOR_TOOLS
    history = as_admin["metric_history"]
    assert history.inputSchema["type"] == "object"
    assert {"server", "metric", "from", "to", "max_points", "lang"} <= set(
        history.inputSchema["properties"]
    )
    assert set(history.inputSchema["required"]) == {"server", "metric"}
    assert history.outputSchema
    assert "points" in history.outputSchema["properties"]
    assert history.annotations
    assert history.annotations.readOnlyHint
    assert as_admin["inject_failure"].annotations.destructiveHint

    viewer = mint_token(TestClient(served.app), "viewer")
    assert set(served.mcp(names, viewer)) == READ_TOOLS


def test_every_read_tool_answers_what_the_rest_route_answers(served: Served) -> None:
    injected = ok(served.call("inject_failure", {"type": "config_error", "servers": ["api-02"]}))
    served.clock.advance(120)
    httpx.post(served.url + "/api/tick", headers=ADMIN, timeout=30).raise_for_status()
    incident = injected["id"]

    cases: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
        ("list_servers", {"sort": "cpu_pct", "order": "desc", "limit": 5}, "/api/fleet", {}),
        ("server_detail", {"server": "api-02"}, "/api/servers/api-02", {}),
        (
            "metric_history",
            {"server": "api-02", "metric": "cpu_pct", "max_points": 20},
            "/api/servers/api-02/history",
            {},
        ),
        ("list_incidents", {}, "/api/incidents", {}),
        ("incident_detail", {"incident_id": incident}, f"/api/incidents/{incident}", {}),
        ("list_alerts", {"level": ["warning", "critical"]}, "/api/alerts", {}),
        ("forecast", {"metric": "disk_pct"}, "/api/analytics/forecast", {}),
        ("correlations", {"server": "api-02"}, "/api/analytics/correlations", {}),
    ]
    for tool, arguments, path, extra in cases:
        params = {k: ",".join(v) if isinstance(v, list) else v for k, v in arguments.items()}
        params = {k: v for k, v in params.items() if k not in ("server", "incident_id")}
        if tool in ("forecast", "correlations"):
            params |= {k: v for k, v in arguments.items() if k == "server"}
        assert ok(served.call(tool, arguments)) == served.rest(path, **params, **extra), tool

    overview = ok(served.call("fleet_overview", {}))
    fleet = served.rest("/api/fleet")
    assert overview["summary"] == fleet["summary"]
    assert overview["bucket"] == fleet["bucket"]
    assert incident in {i["id"] for i in served.rest("/api/incidents")["incidents"]}


def test_the_summary_is_in_the_language_asked(served: Served) -> None:
    ko = served.call("fleet_overview", {"lang": "ko"}).content[0].text
    en = served.call("fleet_overview", {"lang": "en"}).content[0].text
    summary = served.rest("/api/fleet")["summary"]["text"]
    assert (ko, en) == (summary["ko"], summary["en"])
    assert "서버" in ko


def test_operator_tools_refuse_viewers_and_are_audited_for_operators(served: Served) -> None:
    client = TestClient(served.app)
    viewer = mint_token(client, "viewer", "reader")
    operator = mint_token(client, "operator", "on-call")
    arguments = {"type": "database_timeout", "servers": ["db-01"], "duration_s": 120}

    message = refused(served.call("inject_failure", arguments, viewer), "forbidden")
    assert "operator" in message
    assert served.rest("/api/incidents")["count"] == 0

    done = ok(served.call("inject_failure", {**arguments, "note": "game day"}, operator))
    assert done["type"] == "database_timeout"
    assert done["targets"] == ["db-01"]
    entries = served.rest("/api/audit")["entries"]
    inject = [e for e in entries if e["action"] == "incident.inject"]
    assert len(inject) == 1
    assert inject[0]["target"] == done["id"]
    assert inject[0]["actor"].startswith("token:")
    assert inject[0]["role"] == "operator"
    assert inject[0]["details"]["note"] == "game day"

    resolved = ok(served.call("resolve_incident", {"incident_id": done["id"]}, operator))
    assert resolved["id"] == done["id"]
    again = refused(
        served.call("resolve_incident", {"incident_id": done["id"]}, operator), "conflict"
    )
    assert done["id"] in again


def test_bad_arguments_are_clear_tool_errors_naming_the_field(served: Served) -> None:
    message = refused(served.call("list_servers", {"limit": 0}), "validation_error")
    assert "limit" in message
    message = refused(served.call("metric_history", {"server": "db-01"}), "validation_error")
    assert "metric" in message
    message = refused(served.call("list_servers", {"colour": "red"}), "validation_error")
    assert "colour" in message
    refused(served.call("server_detail", {"server": "db-99"}), "not_found")
    refused(served.call("no_such_tool", {}), "not_found")
    message = refused(
        served.call(
            "metric_history", {"server": "db-01", "metric": "cpu_pct", "from": "yesterday"}
        ),
        "validation_error",
    )
    assert "from" in message


def test_malformed_messages_are_json_rpc_errors_never_a_500(served: Served) -> None:
    headers = {**ADMIN, "Accept": "application/json, text/event-stream"}
    url = served.url + "/api/mcp"
    not_json = httpx.post(
        url, content=b"{nope", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == -32700
    not_rpc = httpx.post(url, json={"hello": "world"}, headers=headers)
    assert not_rpc.status_code == 400
    wrong_accept = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=ADMIN
    )
    assert wrong_accept.status_code == 406
    ping = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": "ping"}, headers=headers)
    assert ping.status_code == 200
    assert ping.json() == {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert ping.headers["cache-control"] == "no-store"


def test_resources_are_the_catalogue_and_the_topology(served: Served) -> None:
    async def read(session: ClientSession) -> dict[str, str]:
        listed = (await session.list_resources()).resources
        return {
            str(r.uri): (await session.read_resource(r.uri)).contents[0].text  # type: ignore[union-attr]
            for r in listed
        }

    found = served.mcp(read)
    import json

    catalogue = json.loads(found["openmanager://catalogue/failures"])
    assert {e["type"] for e in catalogue} >= {"database_timeout", "memory_leak"}
    topology = json.loads(found["openmanager://fleet/topology"])
    detail = served.rest("/api/servers/web-01")
    web01 = next(n for n in topology["nodes"] if n["id"] == "web-01")
    assert web01["calls"] == detail["dependencies"]


def test_anonymous_reads_follow_public_read(tmp_path: Path) -> None:
    for served in _serve(tmp_path / "public", public_read=True):
        assert ok(served.call("fleet_overview", {}, token=None))["summary"]["servers"] == 30
        refused(
            served.call("inject_failure", {"type": "cpu_overload", "servers": ["api-01"]}, None),
            "unauthorized",
        )
    for served in _serve(tmp_path / "private", public_read=False):
        response = httpx.post(
            served.url + "/api/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert_error(response, 401, "unauthorized")


def test_the_mcp_route_is_rate_limited_like_the_rest(tmp_path: Path) -> None:
    app = create_app(
        make_settings(tmp_path, rate_limit_api_per_minute=3),
        clock=FixedClock(1_800_000_000.0),
        kv=MemoryKv(),
    )
    headers = {"Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with https_client(app) as client:
        codes = [client.post("/api/mcp", json=body, headers=headers).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_fleet_overview_at_a_past_moment_is_the_fleet_route_then(served: Served) -> None:
    served.clock.advance(900)
    now = ok(served.call("fleet_overview", {}))
    past = str(now["bucket"] - 20)
    then = ok(served.call("fleet_overview", {"at": past}))
    fleet = served.rest("/api/fleet", at=past)
    assert then["bucket"] == fleet["bucket"] == now["bucket"] - 20
    assert then["summary"] == fleet["summary"]
    same = ok(served.call("fleet_overview", {"at": str(now["bucket"])}))
    assert same["summary"] == now["summary"]
    message = refused(served.call("fleet_overview", {"at": "tomorrow"}), "validation_error")
    assert "at" in message


def test_ask_is_the_assistant_route_s_answer(served: Served) -> None:
    ok(served.call("inject_failure", {"type": "cpu_overload", "servers": ["api-02"]}))
    served.clock.advance(300)
    question = {"question": "지금 CPU 가장 높은 서버 3개는?"}
    result = served.call("ask", question)
    answer = ok(result)
    rest = httpx.post(served.url + "/api/ai/ask", json=question, headers=ADMIN, timeout=30)
    rest.raise_for_status()
    expected = AskAnswer.model_validate(rest.json()).model_dump(mode="json")
    same = ("text", "lang", "bucket", "intent", "servers", "figures", "engine")
    assert {k: answer[k] for k in same} == {k: expected[k] for k in same}
    assert answer["lang"] == "ko"
    assert "api-02" in answer["servers"]
    assert result.content[0].text == answer["text"]

    follow = ok(
        served.call(
            "ask",
            {
                "question": "그 중 첫 번째 서버의 메모리는?",
                "conversation_id": answer["conversation_id"],
            },
        )
    )
    assert follow["conversation_id"] == answer["conversation_id"]
    english = ok(served.call("ask", {**question, "lang": "en"}))
    assert english["lang"] == "en"
    earlier = datetime.fromtimestamp(served.clock.now() - 600, UTC).isoformat()
    past = ok(served.call("ask", {**question, "at": earlier}))
    assert past["bucket"] < answer["bucket"]
    message = refused(served.call("ask", {"question": ""}), "validation_error")
    assert "question" in message


def test_ask_counts_against_the_assistant_s_rate_limit(tmp_path: Path) -> None:
    for served in _serve(tmp_path, rate_limit_ai_per_minute=2):
        asked = [served.call("ask", {"question": "fleet status?"}) for _ in range(3)]
        assert [r.isError for r in asked] == [False, False, True]
        refused(asked[2], "rate_limited")
        assert not served.call("fleet_overview", {}).isError
