"""Alerts: the live ones in the engine's book merged with the Repository's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from lib.alerts import alert_id
from lib.engine.view import FleetView, OpenAlert
from lib.http.reads import Reading
from lib.http.schemas.fields import CommaList, Instant, MetricName, ServerId, Text, finite
from lib.metric_labels import metric_label
from lib.sim import METRIC_INDEX, UNITS
from lib.store.db import AlertLevel, AlertRecord, AlertState

LEVEL_KO = {"info": "정보", "warning": "경고", "error": "오류", "critical": "심각"}
STATE_KO = {"pending": "대기", "firing": "발생 중", "resolved": "해결됨", "acknowledged": "확인됨"}


class AlertQuery(BaseModel):
    state: Annotated[list[AlertState] | None, CommaList] = Field(
        None, description="Keep these states (repeat or comma-separate)."
    )
    level: Annotated[list[AlertLevel] | None, CommaList] = Field(
        None, description="Keep these levels (repeat or comma-separate)."
    )
    server: ServerId | None = Field(None, description="Only alerts on this server.")
    incident: str | None = Field(None, max_length=256, description="Only this incident's alerts.")
    from_: Instant | None = Field(None, alias="from", description="Fired at or after this.")
    to: Instant | None = Field(None, description="Fired before this.")
    limit: int = Field(100, ge=1, le=500)


class Alert(BaseModel):
    """One alert: ``live`` when the engine's book holds it open at this bucket."""

    id: str = Field(examples=["al-db-01-response_ms-583201"])
    server: str
    metric: MetricName
    unit: str
    level: AlertLevel
    state: AlertState
    live: bool = Field(description="Open in the engine now (else from the history only).")
    fired_at: datetime
    fired_bucket: int
    value: float | None = Field(description="The metric when the alert fired.")
    threshold: float | None = Field(description="The warning threshold it crossed.")
    current_value: float | None = Field(description="The metric now, for open alerts.")
    peak_score: float | None = Field(description="Highest anomaly score while open, 0..1.")
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    incident_id: str | None = Field(None, description="The incident whose group holds it.")
    message: str = ""
    summary: Text


class AlertList(BaseModel):
    bucket: int
    at: datetime
    count: int
    alerts: list[Alert]


def alert_incidents(view: FleetView) -> dict[str, str]:
    """Alert id → id of the tracked incident whose alert group holds that alert.

    A group hiding two failures holds two incidents: an alert belongs to the one whose
    servers include its own, else to the first.
    """
    state = view.world.state
    if state is None:
        return {}
    by_group: dict[str, list] = {}
    for t in state.incidents:
        for g in t.groups or (t.group_id,):
            by_group.setdefault(g, []).append(t)
    ids = view.fleet.ids
    out = {}
    for g in state.groups:
        for m in g.members if g.id in by_group else ():
            owners = by_group[g.id]
            owner = next((t for t in owners if m.server in t.servers), owners[0])
            out[alert_id(ids[m.server], m.metric, m.fired_bucket)] = owner.id
    return out


def _summary(server: str, metric: str, level: str, state: str) -> Text:
    en, ko = metric_label(metric)
    return Text(
        en=f"{server} {en}: {level} alert, {state}",
        ko=f"{server} {ko}: {LEVEL_KO[level]} 알림, {STATE_KO[state]}",
    )


def live_alert(
    read: Reading, alert: OpenAlert, record: AlertRecord | None, incident: str | None
) -> Alert:
    """An open alert of the book; the stored record, when there is one, adds what it knows."""
    view = read.view
    server = view.fleet.ids[alert.server]
    metric = METRIC_INDEX[alert.metric]
    state: AlertState = "acknowledged" if alert.state == "acknowledged" else "firing"
    level: AlertLevel = alert.level  # type: ignore[assignment]
    return Alert(
        id=alert.id,
        server=server,
        metric=alert.metric,
        unit=UNITS[alert.metric],
        level=level,
        state=state,
        live=True,
        fired_at=read.time_of(alert.fired_bucket),
        fired_bucket=alert.fired_bucket,
        value=None if record is None else finite(record.value),
        threshold=None if record is None else finite(record.threshold),
        current_value=finite(view.values[alert.server, metric]),
        peak_score=finite(alert.peak_score, 4),
        acknowledged_at=None if record is None else record.acknowledged_at,
        acknowledged_by=None if record is None else record.acknowledged_by,
        incident_id=incident or (None if record is None else record.incident_id),
        message="" if record is None else record.message,
        summary=_summary(server, alert.metric, level, state),
    )


def stored_alert(read: Reading, record: AlertRecord, incident: str | None) -> Alert:
    return Alert(
        id=record.id,
        server=record.server_id,
        metric=record.metric,  # type: ignore[arg-type]
        unit=UNITS.get(record.metric, ""),
        level=record.level,
        state=record.state,
        live=False,
        fired_at=record.fired_at,
        fired_bucket=read.state.buckets.bucket_of(record.fired_at.timestamp()),
        value=finite(record.value),
        threshold=finite(record.threshold),
        current_value=None,
        peak_score=None,
        resolved_at=record.resolved_at,
        acknowledged_at=record.acknowledged_at,
        acknowledged_by=record.acknowledged_by,
        incident_id=incident or record.incident_id,
        message=record.message,
        summary=_summary(record.server_id, record.metric, record.level, record.state),
    )


def merged_alerts(read: Reading, records: Sequence[AlertRecord]) -> list[Alert]:
    """Open alerts of the book, then stored ones it does not hold; newest fired first."""
    view = read.view
    incidents = alert_incidents(view)
    stored = {r.id: r for r in records}
    live = [live_alert(read, a, stored.get(a.id), incidents.get(a.id)) for a in view.open_alerts]
    held = {a.id for a in live}
    past = [stored_alert(read, r, incidents.get(r.id)) for r in records if r.id not in held]
    return sorted(live + past, key=lambda a: a.fired_at, reverse=True)


def matches(alert: Alert, query: AlertQuery) -> bool:
    """Whether ``alert`` passes every filter of ``query`` (the store applied them to its own)."""
    fired = alert.fired_at
    return (
        (query.state is None or alert.state in query.state)
        and (query.level is None or alert.level in query.level)
        and (query.server is None or alert.server == query.server)
        and (query.incident is None or alert.incident_id == query.incident)
        and (query.from_ is None or fired >= query.from_)
        and (query.to is None or fired < query.to)
    )
