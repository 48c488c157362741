"""What operators send and get back: failure injection, resolution, acknowledgement, ticks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lib.engine import AdvanceReport
from lib.engine.operator import MAX_DURATION_S
from lib.http.schemas.fields import FailureTypeName, MetricName, RoleName, ServerId, Text
from lib.sim import FailureType

Note = Annotated[
    str | None,
    Field(max_length=500, description="Why, for the audit log (e.g. a ticket or a runbook step)."),
]


class OperatorNote(BaseModel):
    """The optional body of a resolution or an acknowledgement."""

    model_config = ConfigDict(extra="forbid", strict=True)

    note: Note = None


class InjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    type: FailureTypeName = Field(description="A failure type of the catalogue.")
    servers: list[ServerId] = Field(
        min_length=1,
        max_length=100,
        description="Server ids to hit, e.g. ['api-02']; the type decides which roles it can hit.",
    )
    duration_s: int = Field(
        300, ge=1, le=MAX_DURATION_S, description="How long the failure lasts, in seconds."
    )
    note: Note = None


class RecoveryPlan(BaseModel):
    strategy: str = Field(description="What automatic recovery tries, e.g. scale_up.")
    description: Text


class ExpectedEffect(BaseModel):
    """What the dashboard should see once the failure starts."""

    category: str = Field(description="hardware | software | infrastructure")
    severity: str = Field(description="warning | error | critical: the alert level to expect.")
    key_metrics: list[MetricName] = Field(description="Metrics that move on the targets.")
    target_roles: list[RoleName] = Field(description="Roles this type can hit.")
    description: Text
    recovery: RecoveryPlan

    @classmethod
    def of(cls, failure: FailureType) -> ExpectedEffect:
        recovery = failure.recovery
        return cls(
            category=failure.category,
            severity=failure.severity,
            key_metrics=list(failure.key_metrics),
            target_roles=list(failure.target_roles),
            description=Text(en=failure.description_en, ko=failure.description_ko),
            recovery=RecoveryPlan(
                strategy=recovery.name,
                description=Text(en=recovery.description_en, ko=recovery.description_ko),
            ),
        )


class InjectedIncident(BaseModel):
    id: str = Field(description="Incident id; detection, alerts and resolution refer to it.")
    type: FailureTypeName
    injected: bool = Field(True, description="Started by an operator, not by the simulator.")
    targets: list[str] = Field(description="Server ids hit, in fleet order.")
    start_bucket: int = Field(description="The failure starts with this bucket (the next one).")
    starts_at: datetime
    end_bucket: int = Field(description="First bucket after the failure, unless resolved earlier.")
    ends_at: datetime
    duration_s: int = Field(description="Effective duration: whole buckets.")
    expected: ExpectedEffect


class ResolvedIncident(BaseModel):
    id: str
    status: Literal["resolving"] = Field(
        "resolving", description="Metrics settle from effective_bucket; the engine closes it."
    )
    effective_bucket: int
    effective_at: datetime
    resolved_by: str = Field(description="Who resolved it: user:<name>, token:<id>, admin-token.")


class AcknowledgedAlert(BaseModel):
    id: str
    state: Literal["acknowledged"] = "acknowledged"
    acknowledged_by: str
    acknowledged_at: datetime
    bucket: int = Field(description="The stream event's bucket (the engine's last processed).")


class ProcessedRange(BaseModel):
    first_bucket: int
    last_bucket: int
    buckets: int


class TickReport(BaseModel):
    """What one ``/api/tick`` did to the engine."""

    outcome: Literal["idle", "busy", "advanced", "fenced"] = Field(
        description="idle: nothing waited; busy: another call holds the engine; advanced: ran; "
        "fenced: ran past its lock, which another call took, so nothing was saved."
    )
    bucket: int = Field(description="The current bucket.")
    processed: ProcessedRange | None = Field(description="Buckets processed by this call.")
    alerts_fired: int
    incidents_detected: int
    events: int = Field(description="Stream events the call produced.")
    persisted_now: bool = Field(
        description="Every database write landed; false: some wait in the outbox."
    )

    @classmethod
    def of(cls, report: AdvanceReport) -> TickReport:
        processed = None
        if report.processed is not None:
            b0, b1 = report.processed
            processed = ProcessedRange(first_bucket=b0, last_bucket=b1 - 1, buckets=b1 - b0)
        return cls(
            outcome=report.outcome,  # type: ignore[arg-type]
            bucket=report.bucket,
            processed=processed,
            alerts_fired=report.alerts_fired,
            incidents_detected=report.incidents_detected,
            events=len(report.events),
            persisted_now=report.persisted_now,
        )
