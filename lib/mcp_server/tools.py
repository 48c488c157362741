"""The MCP tools: each one a REST route's own function, on the REST route's own query model.

A tool's input model is the route's query (or body) model plus the path parameters and
``lang``; its output model is the route's response model. So the arguments are validated by
the same rules (an error names the field), and the numbers are the numbers the REST API
returns for the same moment: nothing here computes a figure of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import anyio.from_thread
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from lib.engine.view import past_view
from lib.http.credentials import Role
from lib.http.routes import ai, alerts, analytics, incidents, operations, servers
from lib.http.routes.ai import AskAnswer, AskBody
from lib.http.schemas.alerts import AlertList, AlertQuery
from lib.http.schemas.analytics import (
    CorrelationQuery,
    CorrelationResponse,
    ForecastQuery,
    ForecastResponse,
)
from lib.http.schemas.fields import STATUS_KO, ServerId, Text
from lib.http.schemas.fleet import (
    FleetPage,
    FleetQuery,
    FleetSummary,
    PastMoment,
    fleet_page,
)
from lib.http.schemas.incidents import IncidentDetail, IncidentList, IncidentQuery
from lib.http.schemas.operations import (
    AcknowledgedAlert,
    InjectedIncident,
    InjectRequest,
    Note,
    OperatorNote,
    ResolvedIncident,
)
from lib.http.schemas.servers import HistoryQuery, ServerDetail, ServerHistory
from lib.mcp_server.calls import McpCall

Lang = Literal["ko", "en"]


class Localised(BaseModel):
    """Every tool's input: ``lang`` picks the language of the text summary."""

    lang: Lang = Field("en", description="Language of the text summary: ko or en.")


class OverviewInput(Localised):
    model_config = ConfigDict(extra="forbid")

    at: PastMoment = None


class AskInput(AskBody):
    """The assistant's question; its answer's language is ``lang``, else the question's."""

    model_config = ConfigDict(extra="forbid")


class ListServersInput(FleetQuery, Localised):
    model_config = ConfigDict(extra="forbid")


class ServerInput(Localised):
    model_config = ConfigDict(extra="forbid")

    server: ServerId = Field(description="Server id, e.g. db-01.")


class HistoryInput(HistoryQuery, Localised):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    server: ServerId = Field(description="Server id, e.g. db-01.")


class IncidentsInput(IncidentQuery, Localised):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class IncidentInput(Localised):
    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1, max_length=256, examples=["inc-2880-1"])


class AlertsInput(AlertQuery, Localised):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ForecastInput(ForecastQuery, Localised):
    model_config = ConfigDict(extra="forbid")


class CorrelationsInput(CorrelationQuery, Localised):
    model_config = ConfigDict(extra="forbid")


class InjectInput(InjectRequest, Localised):
    model_config = ConfigDict(extra="forbid")


class ResolveInput(Localised):
    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1, max_length=256, examples=["inj-583201-3fa2c1"])
    note: Note = None


class AcknowledgeInput(Localised):
    model_config = ConfigDict(extra="forbid")

    alert_id: str = Field(min_length=1, max_length=256, examples=["al-db-01-response_ms-583201"])
    note: Note = None


class FleetOverview(BaseModel):
    """The fleet's summary at a bucket: ``GET /api/fleet``'s ``summary`` and its moment."""

    bucket: int
    at: datetime
    processed_through: int | None
    summary: FleetSummary


@dataclass(frozen=True)
class Tool:
    """One MCP tool: what it takes, what it gives, who may call it and what it runs."""

    name: str
    title: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    run: Callable[[McpCall, Any], BaseModel]
    summary: Callable[[Any], Text]
    role: Role | None = None  # None: whoever may read (anyone while PUBLIC_READ is on)

    @property
    def read_only(self) -> bool:
        return self.role is None


def _note(body: ResolveInput | AcknowledgeInput) -> OperatorNote | None:
    return OperatorNote(note=body.note) if body.note else None


def _query(model: type[BaseModel], args: BaseModel) -> Any:
    """The REST model ``model`` built from a tool input that extends it."""
    return model.model_validate(args.model_dump(by_alias=True, exclude={"lang"}))


def _overview(call: McpCall, args: OverviewInput) -> FleetOverview:
    read = call.reading()
    past = None
    if args.at is not None:
        past = past_view(read.engine, read.now, read.past_bucket(args.at, field="at"))
    page = fleet_page(read, FleetQuery(limit=1), past)
    return FleetOverview(
        bucket=page.bucket,
        at=page.at,
        processed_through=page.processed_through,
        summary=page.summary,
    )


def _list_servers(call: McpCall, args: ListServersInput) -> FleetPage:
    return fleet_page(call.reading(), _query(FleetQuery, args))


def _server_detail(call: McpCall, args: ServerInput) -> ServerDetail:
    return servers.get_server(call.reading(), args.server, Response())


def _history(call: McpCall, args: HistoryInput) -> ServerHistory:
    return servers.get_history(call.reading(), args.server, _query(HistoryQuery, args))


def _incidents(call: McpCall, args: IncidentsInput) -> IncidentList:
    return incidents.list_incidents(call.reading(), _query(IncidentQuery, args), Response())


def _incident(call: McpCall, args: IncidentInput) -> IncidentDetail:
    return incidents.get_incident(call.reading(), args.incident_id, Response())


def _alerts(call: McpCall, args: AlertsInput) -> AlertList:
    return alerts.list_alerts(call.reading(), _query(AlertQuery, args), Response())


def _forecast(call: McpCall, args: ForecastInput) -> ForecastResponse:
    return analytics.get_forecast(call.reading(), _query(ForecastQuery, args))


def _correlations(call: McpCall, args: CorrelationsInput) -> CorrelationResponse:
    return analytics.get_correlations(call.reading(), _query(CorrelationQuery, args))


def _ask(call: McpCall, args: AskInput) -> AskAnswer:
    call.limit("ai")
    t0 = time.monotonic()
    read = call.reading()
    question = ai.question_of(call.state, args, read.now)
    return AskAnswer.model_validate(anyio.from_thread.run(ai.answer_of, call.state, question, t0))


def _inject(call: McpCall, args: InjectInput) -> InjectedIncident:
    who = call.require("operator")
    body = _query(InjectRequest, args)
    return operations.inject_failure(body, call.state, who, call.audit, Response())


def _resolve(call: McpCall, args: ResolveInput) -> ResolvedIncident:
    who = call.require("operator")
    return operations.resolve_incident(
        args.incident_id, call.state, who, call.audit, Response(), _note(args)
    )


def _acknowledge(call: McpCall, args: AcknowledgeInput) -> AcknowledgedAlert:
    who = call.require("operator")
    return operations.acknowledge_alert(
        args.alert_id, call.state, who, call.audit, Response(), _note(args)
    )


def _counted(n: int, en: str, ko: str) -> Text:
    return Text(en=f"{n} {en}{'' if n == 1 else 's'}", ko=f"{ko} {n}건")


def _page_text(page: FleetPage) -> Text:
    shown = ", ".join(f"{s.id} ({s.status})" for s in page.servers[:10])
    shown_ko = ", ".join(f"{s.id} ({STATUS_KO[s.status]})" for s in page.servers[:10])
    more = len(page.servers) - 10
    tail_en = f", and {more} more" if more > 0 else ""
    tail_ko = f" 외 {more}대" if more > 0 else ""
    return Text(
        en=f"{page.total} servers match; page {page.page}/{page.pages}: {shown}{tail_en}",
        ko=f"조건에 맞는 서버 {page.total}대, {page.page}/{page.pages} 페이지: {shown_ko}{tail_ko}",
    )


def _incidents_text(found: IncidentList) -> Text:
    lines = [i.summary for i in found.incidents[:10]]
    head = _counted(found.count, "incident", "장애")
    return Text(
        en="; ".join([head.en, *(t.en for t in lines)]),
        ko="; ".join([head.ko, *(t.ko for t in lines)]),
    )


def _alerts_text(found: AlertList) -> Text:
    lines = [f"{a.id} {a.level} {a.state}" for a in found.alerts[:10]]
    head = _counted(found.count, "alert", "알림")
    return Text(en="; ".join([head.en, *lines]), ko="; ".join([head.ko, *lines]))


def _history_text(found: ServerHistory) -> Text:
    values = [p.value for p in found.points]
    if not values:
        return Text(en=f"{found.server} {found.metric}: no points", ko="데이터 없음")
    low, high, last = min(values), max(values), values[-1]
    unit = found.unit
    return Text(
        en=f"{found.server} {found.metric}: {len(values)} points every {found.step_s} s, "
        f"last {last:.4g} {unit}, range {low:.4g}–{high:.4g} {unit}",
        ko=f"{found.server} {found.metric}: {found.step_s}초 간격 {len(values)}개, "
        f"마지막 {last:.4g} {unit}, 범위 {low:.4g}–{high:.4g} {unit}",
    )


def _injected_text(done: InjectedIncident) -> Text:
    targets = ", ".join(done.targets)
    return Text(
        en=f"Injected {done.type} ({done.id}) on {targets} for {done.duration_s} s",
        ko=f"{targets}에 {done.type} 장애({done.id})를 {done.duration_s}초 동안 주입했습니다",
    )


def _resolved_text(done: ResolvedIncident) -> Text:
    return Text(
        en=f"Resolved {done.id} from bucket {done.effective_bucket}",
        ko=f"{done.id} 해결 처리 (버킷 {done.effective_bucket}부터)",
    )


def _acknowledged_text(done: AcknowledgedAlert) -> Text:
    return Text(en=f"Acknowledged {done.id}", ko=f"{done.id} 알림을 확인 처리했습니다")


TOOLS: tuple[Tool, ...] = (
    Tool(
        "fleet_overview",
        "Fleet overview",
        "The fleet now: servers by status, role and region, health, active incidents and "
        "open alerts.",
        OverviewInput,
        FleetOverview,
        _overview,
        lambda r: r.summary.text,
    ),
    Tool(
        "list_servers",
        "List servers",
        "Servers with their metrics, status and health, filtered by role, region, status or "
        "a substring, sorted by any metric (e.g. sort=cpu_pct, order=desc, limit=5).",
        ListServersInput,
        FleetPage,
        _list_servers,
        _page_text,
    ),
    Tool(
        "server_detail",
        "Server detail",
        "One server now: spec, every metric with its thresholds, open alerts and incidents, "
        "and its place in the topology.",
        ServerInput,
        ServerDetail,
        _server_detail,
        lambda r: r.summary,
    ),
    Tool(
        "metric_history",
        "Metric history",
        "One metric of one server over a range (default the last hour), at most max_points "
        "points, with the adaptive warning and critical bands at each point.",
        HistoryInput,
        ServerHistory,
        _history,
        _history_text,
    ),
    Tool(
        "list_incidents",
        "List incidents",
        "Open and past incidents, newest first, filtered by status, type, server or time.",
        IncidentsInput,
        IncidentList,
        _incidents,
        _incidents_text,
    ),
    Tool(
        "incident_detail",
        "Incident detail",
        "One incident with its timeline, what was found and done, and its open alerts.",
        IncidentInput,
        IncidentDetail,
        _incident,
        lambda r: r.summary,
    ),
    Tool(
        "list_alerts",
        "List alerts",
        "Alerts open now and past ones, newest first, filtered by state, level, server, "
        "incident or time.",
        AlertsInput,
        AlertList,
        _alerts,
        _alerts_text,
    ),
    Tool(
        "forecast",
        "Forecast",
        "Where a metric is heading: a forecast with a prediction interval for one server, "
        "or every server's time until its disk is full (metric=disk_pct).",
        ForecastInput,
        ForecastResponse,
        _forecast,
        lambda r: r.summary,
    ),
    Tool(
        "correlations",
        "Correlations",
        "Which metrics move together (one server's metrics) or which servers move together "
        "(one metric), with the strongest pairs and who leads.",
        CorrelationsInput,
        CorrelationResponse,
        _correlations,
        lambda r: r.summary,
    ),
    Tool(
        "ask",
        "Ask the assistant",
        "A question about the fleet in Korean or English (e.g. '지금 CPU 가장 높은 서버 3개', "
        "'why is db-01 slow?'), answered from the live data by the dashboard's assistant; "
        "conversation_id continues a conversation, at asks about a past moment.",
        AskInput,
        AskAnswer,
        _ask,
        lambda r: Text(en=r.text, ko=r.text),
    ),
    Tool(
        "inject_failure",
        "Inject a failure",
        "Operator only: start a failure of a catalogue type on servers from the next bucket.",
        InjectInput,
        InjectedIncident,
        _inject,
        _injected_text,
        role="operator",
    ),
    Tool(
        "resolve_incident",
        "Resolve an incident",
        "Operator only: resolve an active incident by hand; its metrics settle from the next "
        "bucket.",
        ResolveInput,
        ResolvedIncident,
        _resolve,
        _resolved_text,
        role="operator",
    ),
    Tool(
        "acknowledge_alert",
        "Acknowledge an alert",
        "Operator only: acknowledge an open alert; it stays open and its escalations go silent.",
        AcknowledgeInput,
        AcknowledgedAlert,
        _acknowledge,
        _acknowledged_text,
        role="operator",
    ),
)

TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
