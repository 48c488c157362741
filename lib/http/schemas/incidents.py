"""Incidents: open ones the engine tracks, the Repository's history, and injected ones.

Three sources, most current first: the engine's open tracks, the stored records, then the
incidents operators injected that the engine has not detected (``status: "injected"``; an
operator started them, so they are known). Incidents the simulator schedules by itself appear
only once detected: before that nobody could know of them.

What the engine concluded (``diagnosis``, and ``type``, ``root_server``, ``servers``,
``started_at`` from it) is kept apart from what the simulator did (``scenario``, its ground
truth, labelled as such, for the demo and the evaluation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from lib.diagnose.text import TYPE_KO
from lib.engine import reasons
from lib.engine.reasons import Reason
from lib.engine.view import FleetView
from lib.engine.world import IncidentTrack, World
from lib.http.reads import Reading
from lib.http.schemas.alerts import Alert, alert_incidents
from lib.http.schemas.fields import (
    CommaList,
    DiagnosedTypeName,
    FailureTypeName,
    Instant,
    ServerId,
    Text,
)
from lib.sim import FAILURE_TYPES
from lib.sim import Incident as SimIncident
from lib.store.db import CLOSED_INCIDENTS, IncidentRecord, IncidentStatus, TimelineEntry

IncidentState = Literal["injected", "active", "recovering", "recovered", "escalated", "resolved"]
STATUS_KO = {
    "injected": "주입됨(탐지 전)",
    "active": "진행 중",
    "recovering": "복구 중",
    "recovered": "복구됨",
    "escalated": "에스컬레이션됨",
    "resolved": "해결됨",
}


class IncidentQuery(BaseModel):
    status: Annotated[list[IncidentState] | None, CommaList] = Field(
        None, description="Keep these statuses (repeat or comma-separate)."
    )
    type: DiagnosedTypeName | None = Field(None, description="Failure type (diagnosed).")
    server: ServerId | None = Field(None, description="Only incidents touching this server.")
    from_: Instant | None = Field(None, alias="from", description="Started at or after this.")
    to: Instant | None = Field(None, description="Started before this.")
    limit: int = Field(100, ge=1, le=500)

    def stored_statuses(self) -> list[IncidentStatus] | None:
        """The statuses to ask the store for (it knows no ``injected``)."""
        if self.status is None or "injected" in self.status:
            return None
        return list(self.status)  # type: ignore[arg-type]


class TimelineStep(BaseModel):
    at: datetime
    bucket: int
    event: str = Field(
        examples=["started", "detected", "recovery_started", "revised", "closed", "reopened"]
    )
    reason: Text | None = Field(None, description="Why, in English and Korean.")


class Hypothesis(BaseModel):
    type: DiagnosedTypeName
    score: float = Field(ge=0, le=1)


class MovedMetric(BaseModel):
    server: str
    metric: str
    direction: Literal["up", "down"]
    baseline: float
    observed: float
    z: float = Field(description="How many of its normal variations it moved.")
    onset_bucket: int = Field(description="Where this move began (-1: not settled yet).")


class EvidenceLog(BaseModel):
    bucket: int
    server: str
    level: str
    source: str
    message: str


class Evidence(BaseModel):
    metrics: list[MovedMetric] = Field(description="What moved, earliest first.")
    logs: list[EvidenceLog] = Field(description="Log lines that point to the failure.")


class Diagnosis(BaseModel):
    """What the engine concluded from metrics, logs and topology alone."""

    type: DiagnosedTypeName
    confidence: float = Field(ge=0, le=1)
    hypotheses: list[Hypothesis] = Field(description="Candidates, most likely first.")
    root_server: str
    affected: list[str]
    onset_bucket: int = Field(description="Where the anomaly began, as observed.")
    evidence: Evidence
    summary: Text
    attempts: list[str] = Field(description="Recovery strategies planned, in order.")


class ScenarioIncident(BaseModel):
    id: str
    type: FailureTypeName
    targets: list[str]
    start_bucket: int
    injected: bool


class Scenario(BaseModel):
    """The simulator's ground truth behind an incident: never used by the engine's decisions."""

    source: Literal["simulator ground truth"] = "simulator ground truth"
    incidents: list[ScenarioIncident]


class Incident(BaseModel):
    id: str = Field(examples=["inc-api-02-2880", "inj-583201-3fa2c1"])
    type: DiagnosedTypeName = Field(
        description="The diagnosed type; for an injected incident not detected yet, the "
        "type the operator injected."
    )
    severity: Literal["warning", "error", "critical"]
    status: IncidentState
    open: bool = Field(description="Still acting or being handled.")
    injected: bool = Field(description="Started by an operator rather than by the simulation.")
    servers: list[str] = Field(description="Every server it reached, targets first.")
    root_server: str | None
    started_at: datetime
    started_bucket: int
    detected_at: datetime | None = None
    detected_bucket: int | None = None
    recovery_attempted_at: datetime | None = None
    recovered_at: datetime | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    strategy: str | None = Field(None, description="Automatic recovery chosen, if any.")
    planned_end_at: datetime | None = Field(None, description="Injected: when it stops itself.")
    timeline: list[TimelineStep]
    alerts: list[str] = Field(
        description="Ids of its alerts open now; in the detail, also those stored with it."
    )
    description: Text = Field(description="What this failure type does.")
    summary: Text
    diagnosis: Diagnosis | None = Field(
        None, description="What the engine concluded (null: not detected yet)."
    )
    scenario: Scenario | None = Field(
        None,
        description="The simulator's ground truth behind it, for the demo and the evaluation: "
        "not what the engine concluded.",
    )


class IncidentList(BaseModel):
    bucket: int
    at: datetime
    count: int
    incidents: list[Incident]


class IncidentDetail(Incident):
    open_alerts: list[Alert] = Field(description="Its alerts open now, in full.")


_UNKNOWN_TEXT = Text(
    en="An anomaly that harms service but matches no failure of the catalogue: an operator "
    "should look.",
    ko="서비스에 영향을 주지만 카탈로그의 어떤 장애와도 맞지 않는 이상: 운영자 확인이 필요합니다.",
)


def _describe(kind: str) -> Text:
    failure = FAILURE_TYPES.get(kind)
    if failure is None:
        return _UNKNOWN_TEXT
    return Text(en=failure.description_en, ko=failure.description_ko)


def _severity(kind: str) -> str:
    failure = FAILURE_TYPES.get(kind)
    return "error" if failure is None else failure.severity


def diagnosis_of(data: dict[str, Any], attempts: Sequence[str] = ()) -> Diagnosis | None:
    """The API form of a stored diagnosis (``Diagnosis.to_dict``); ``None`` when empty."""
    if not data:
        return None
    return Diagnosis(
        type=data["type"],
        confidence=data["confidence"],
        hypotheses=[Hypothesis(**h) for h in data["hypotheses"]],
        root_server=data["root_server"],
        affected=data["affected"],
        onset_bucket=data["onset_bucket"],
        evidence=Evidence(**data["evidence"]),
        summary=Text(en=data["summary_en"], ko=data["summary_ko"]),
        attempts=list(data.get("attempts", attempts)),
    )


def scenario_of(data: dict[str, Any]) -> Scenario | None:
    """The API form of a stored scenario; ``None`` when empty."""
    return Scenario(incidents=data["incidents"]) if data else None


def explained_ids(tracks: Iterable[IncidentTrack], records: Iterable[IncidentRecord]) -> set[str]:
    """Simulator incident ids some engine incident has been found to lie behind."""
    scenarios = [t.scenario for t in tracks] + [r.scenario for r in records]
    return {i["id"] for s in scenarios for i in s.get("incidents", [])}


def _stored_reason(entry: TimelineEntry) -> Reason | None:
    if entry.reason is None:
        return None
    return entry.reason, entry.reason_ko or entry.reason


def _summary(kind: str, root: str | None, n_servers: int, status: str) -> Text:
    where = root or "?"
    return Text(
        en=f"{kind} on {where} ({n_servers} server{'s' if n_servers != 1 else ''}): {status}",
        ko=f"{where} {TYPE_KO.get(kind, kind)} (서버 {n_servers}대): {STATUS_KO[status]}",
    )


class IncidentShaper:
    """Turns each source's incidents into ``Incident`` models for one reading."""

    def __init__(self, read: Reading) -> None:
        self.read = read
        view = read.view
        self.ids = view.fleet.ids
        self.injected = {i.id for i in view.world.injected}
        by_incident: dict[str, list[str]] = {}
        for alert, incident in alert_incidents(view).items():
            by_incident.setdefault(incident, []).append(alert)
        self.alerts = by_incident

    def step(self, bucket: int, event: str, reason: Reason | None) -> TimelineStep:
        text = None if reason is None else Text(en=reason[0], ko=reason[1])
        return TimelineStep(at=self.read.time_of(bucket), bucket=bucket, event=event, reason=text)

    def tracked(self, t: IncidentTrack) -> Incident:
        when = self.read.time_of
        servers = [self.ids[s] for s in t.servers]
        root = self.ids[t.root]
        return Incident(
            id=t.id,
            type=t.type,
            severity=_severity(t.type),  # type: ignore[arg-type]
            status=t.status,  # type: ignore[arg-type]
            open=True,
            injected=t.id in self.injected,
            servers=servers,
            root_server=root,
            started_at=when(t.started_bucket),
            started_bucket=t.started_bucket,
            detected_at=when(t.detected_bucket),
            detected_bucket=t.detected_bucket,
            recovery_attempted_at=None if t.recovery_bucket is None else when(t.recovery_bucket),
            recovered_at=None if t.recovered_bucket is None else when(t.recovered_bucket),
            escalated_at=None if t.escalated_bucket is None else when(t.escalated_bucket),
            strategy=t.strategy,
            timeline=[self.step(b, e, r) for b, e, r in t.timeline],
            alerts=self.alerts.get(t.id, []),
            description=_describe(t.type),
            summary=_summary(t.type, root, len(servers), t.status),
            diagnosis=diagnosis_of(t.diagnosis, t.attempts),
            scenario=scenario_of(t.scenario),
        )

    def stored(self, r: IncidentRecord) -> Incident:
        bucket_of = self.read.state.buckets.bucket_of
        detected = None if r.detected_at is None else bucket_of(r.detected_at.timestamp())
        return Incident(
            id=r.id,
            type=r.type,  # type: ignore[arg-type]
            severity=_severity(r.type),  # type: ignore[arg-type]
            status=r.status,
            open=r.status not in CLOSED_INCIDENTS,
            injected=r.id in self.injected,
            servers=list(r.servers),
            root_server=r.root_server,
            started_at=r.started_at,
            started_bucket=bucket_of(r.started_at.timestamp()),
            detected_at=r.detected_at,
            detected_bucket=detected,
            recovery_attempted_at=r.recovery_attempted_at,
            recovered_at=r.recovered_at,
            escalated_at=r.escalated_at,
            resolved_at=r.resolved_at,
            resolved_by=r.resolved_by,
            strategy=r.strategy,
            timeline=[
                self.step(bucket_of(s.at.timestamp()), s.event, _stored_reason(s))
                for s in r.timeline
            ],
            alerts=self.alerts.get(r.id, []),
            description=_describe(r.type),
            summary=_summary(r.type, r.root_server, len(r.servers), r.status),
            diagnosis=diagnosis_of(r.diagnosis),
            scenario=scenario_of(r.scenario),
        )

    def undetected(self, i: SimIncident) -> Incident:
        """An injected incident the engine has not detected (or an operator ended first)."""
        world = self.read.view.world
        when = self.read.time_of
        end = i.start_bucket + i.duration_buckets
        ended_by = world.recovered_at.get(i.id)
        servers = [self.ids[s] for s in i.targets]
        steps = [self.step(i.start_bucket, "injected", reasons.injected(i.type))]
        status: IncidentState = "injected"
        if ended_by is not None:
            status = "resolved"
            by = world.resolved_by.get(i.id, "engine")
            steps.append(self.step(ended_by, "closed", reasons.resolved_by(by)))
        return Incident(
            id=i.id,
            type=i.type,
            severity=i.severity,  # type: ignore[arg-type]
            status=status,
            open=injected_open(self.read.view.world, i, self.read.bucket),
            injected=True,
            servers=servers,
            root_server=servers[0],
            started_at=when(i.start_bucket),
            started_bucket=i.start_bucket,
            resolved_at=None if ended_by is None else when(ended_by),
            resolved_by=None if ended_by is None else world.resolved_by.get(i.id, "engine"),
            planned_end_at=when(end),
            timeline=steps,
            alerts=[],
            description=_describe(i.type),
            summary=_summary(i.type, servers[0], len(servers), status),
            scenario=Scenario(
                incidents=[
                    ScenarioIncident(
                        id=i.id,
                        type=i.type,
                        targets=servers,
                        start_bucket=i.start_bucket,
                        injected=True,
                    )
                ]
            ),
        )

    def merged(self, records: Iterable[IncidentRecord]) -> list[Incident]:
        """Tracked, then stored, then undetected injected incidents, each id once.

        An injected incident an engine incident was found to lie behind is shown through
        that incident (its ``scenario``), not a second time.
        """
        world = self.read.view.world
        tracks = world.state.incidents if world.state else ()
        records = list(records)
        out = {t.id: self.tracked(t) for t in tracks}
        for r in records:
            out.setdefault(r.id, self.stored(r))
        explained = explained_ids(tracks, records)
        for i in world.injected:
            if i.id not in explained:
                out.setdefault(i.id, self.undetected(i))
        return list(out.values())


def injected_open(world: World, incident: SimIncident, bucket: int) -> bool:
    """An injected incident nobody ended, still within its planned duration."""
    end = incident.start_bucket + incident.duration_buckets
    return incident.id not in world.recovered_at and bucket < end


def open_incident_count(view: FleetView) -> int:
    """Tracked incidents plus the injected ones not detected yet and still acting."""
    world = view.world
    tracks = world.state.incidents if world.state else ()
    tracked = {t.id for t in tracks} | explained_ids(tracks, ())
    undetected = [i for i in world.injected if i.id not in tracked]
    return len(tracks) + sum(injected_open(world, i, view.bucket) for i in undetected)


def undetected_candidates(read: Reading) -> Sequence[SimIncident]:
    """Injected incidents the engine does not track: the store may still know them."""
    world = read.view.world
    tracks = world.state.incidents if world.state else ()
    tracked = {t.id for t in tracks} | explained_ids(tracks, ())
    return [i for i in world.injected if i.id not in tracked]


def matches(incident: Incident, query: IncidentQuery) -> bool:
    """Whether ``incident`` passes every filter of ``query``."""
    started = incident.started_at
    return (
        (query.status is None or incident.status in query.status)
        and (query.type is None or incident.type == query.type)
        and (query.server is None or query.server in incident.servers)
        and (query.from_ is None or started >= query.from_)
        and (query.to is None or started < query.to)
    )


def newest_first(incidents: Iterable[Incident], limit: int) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.started_at, i.id), reverse=True)[:limit]
