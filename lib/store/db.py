"""The ``Repository`` port: the history OpenManager keeps, and the records it is made of.

Two adapters hold to one contract (``tests/integration/test_repository_contract.py``):
``SqliteRepository`` (embedded default, ``lib/store/sqlite_repository.py``) and
``SupabaseRepository`` (PostgREST, ``lib/store/supabase_repository.py``); the PostgreSQL schema
is ``supabase/migrations/0001_init.sql`` and the migrations after it.

Every write is idempotent, keyed by the record's natural key, so a retried or replayed write
never duplicates: rollups upsert on ``(server_id, minute)``, incidents on ``id``, push
subscriptions on ``endpoint``; alerts, audit entries and transcripts insert, a duplicate ``id``
being a no-op. ``WRITE_OPS`` names the replayable writes and their record types; ``apply``
validates JSON records (``model_dump(mode="json")``) and dispatches, which is how the outbox
replays a write that failed.

Times are timezone-aware and normalised to UTC on the way in (naive datetimes are rejected);
they come back as UTC. Ranges are half-open, ``start <= t < end``. Every read has a ``limit``.

The module runs past 400 lines because the records and the protocol together are the contract:
one file says what is stored and how it is asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, Literal, Protocol, Self, overload
from uuid import UUID

import pydantic
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    JsonValue,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from lib.alert_levels import ALERT_LEVELS, AlertLevel
from lib.errors import ValidationError

IncidentStatus = Literal["active", "recovering", "recovered", "escalated", "resolved"]
AlertState = Literal["pending", "firing", "resolved", "acknowledged"]
# Closed incidents, and the column saying when each closed: what retention deletes by.
CLOSED_INCIDENTS: Mapping[str, str] = MappingProxyType(
    {"recovered": "recovered_at", "resolved": "resolved_at"}
)
# The others: what the engine still tracks, and what the metrics endpoint counts by status.
OPEN_INCIDENTS: tuple[IncidentStatus, ...] = ("active", "recovering", "escalated")
# Table names, shared by both adapters; also the keys of ``delete_older_than``'s result.
ROLLUPS, INCIDENTS, ALERTS = "metric_rollups", "incidents", "alerts"
PUSH_SUBSCRIPTIONS, AUDIT_LOG, TRANSCRIPTS = "push_subscriptions", "audit_log", "ai_transcripts"
MAX_LIMIT = 100_000


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _strip_nul(value: str) -> str:
    return value.replace("\x00", "")


def _strip_nul_json(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return _strip_nul(value)
    if isinstance(value, list):
        return [_strip_nul_json(item) for item in value]
    if isinstance(value, dict):
        return {_strip_nul(key): _strip_nul_json(item) for key, item in value.items()}
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_no_nul)]
# PostgreSQL text and jsonb cannot hold NUL; free text (user questions, messages, JSON details)
# loses it instead of failing every retry.
Text = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_strip_nul)]
JsonMap = Annotated[dict[str, JsonValue], AfterValidator(_strip_nul_json)]


class Record(BaseModel):
    """A persisted value: frozen, strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RollupRecord(Record):
    """One server's metrics over one minute; key ``(server_id, minute)``."""

    server_id: Name
    minute: UtcDatetime = Field(description="Start of the minute (UTC, seconds = 0).")
    samples: PositiveInt = Field(description="Number of buckets aggregated.")
    avg: dict[Name, FiniteFloat] = Field(description="Mean over the minute, by metric name.")
    max: dict[Name, FiniteFloat] = Field(description="Maximum over the minute, by metric name.")

    @field_validator("minute")
    @classmethod
    def _starts_a_minute(cls, value: datetime) -> datetime:
        if value.second or value.microsecond:
            raise ValueError("must be the start of a minute")
        return value


class TimelineEntry(Record):
    """One step in an incident's life."""

    at: UtcDatetime
    event: Name
    reason: Text | None = None
    reason_ko: Text | None = None
    """The reason in Korean (absent from entries written before it existed)."""


class IncidentRecord(Record):
    """An incident as it stands now; key ``id``. Upserting replaces the whole row."""

    id: Name
    type: Name
    servers: tuple[Name, ...]
    root_server: Name | None = None
    status: IncidentStatus
    started_at: UtcDatetime
    detected_at: UtcDatetime | None = None
    recovery_attempted_at: UtcDatetime | None = None
    recovered_at: UtcDatetime | None = None
    escalated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    resolved_by: Name | None = None
    strategy: Name | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    diagnosis: JsonMap = Field(default_factory=dict)
    """What the engine concluded from metrics, logs and topology (``Diagnosis.to_dict``)."""
    scenario: JsonMap = Field(default_factory=dict)
    """The simulator's truth behind it, for the demo and the evaluation; never decided on."""

    @model_validator(mode="after")
    def _closed_says_when(self) -> Self:
        column = CLOSED_INCIDENTS.get(self.status)
        if column is not None and getattr(self, column) is None:
            raise ValueError(f"a {self.status} incident needs {column}")
        return self


class AlertRecord(Record):
    """An alert; key ``id``, derived by the writer from (server, metric, fired bucket)."""

    id: Name
    incident_id: Name | None = None
    server_id: Name
    metric: Name
    level: AlertLevel
    state: AlertState
    value: FiniteFloat
    threshold: FiniteFloat
    fired_at: UtcDatetime = Field(description="When the alert was raised (or last fired).")
    resolved_at: UtcDatetime | None = None
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: Name | None = None
    message: Text = ""

    @model_validator(mode="after")
    def _state_says_when(self) -> Self:
        if self.state == "resolved" and self.resolved_at is None:
            raise ValueError("a resolved alert needs resolved_at")
        if self.state == "acknowledged" and self.acknowledged_at is None:
            raise ValueError("an acknowledged alert needs acknowledged_at")
        return self


class AlertStateChange(Record):
    """Move alert ``id`` to ``state`` at ``at``; replaying it sets the same values again.

    ``resolved`` sets ``resolved_at``, ``acknowledged`` sets ``acknowledged_at`` and
    ``acknowledged_by``; ``fired_at`` stays as inserted. An escalation is a change to
    ``firing`` with a new ``level`` (and ``value``). A change with an ``incident_id`` and no
    ``state`` only links the alert to the incident whose group holds it (``at``: when known).
    """

    id: Name
    state: AlertState | None = None
    at: UtcDatetime
    incident_id: Name | None = Field(None, description="Link it to this incident.")
    by: Name | None = Field(None, description="Who acknowledged (state 'acknowledged').")
    level: AlertLevel | None = Field(None, description="New level, when it changed.")
    value: FiniteFloat | None = Field(None, description="Latest value, when it is news.")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.state is None and self.incident_id is None:
            raise ValueError("a change needs a state or an incident_id")
        return self

    def columns(self) -> dict[str, str | float | datetime | None]:
        """The columns this change sets."""
        changed: dict[str, str | float | datetime | None] = {}
        if self.state is not None:
            changed["state"] = self.state
        if self.incident_id is not None:
            changed["incident_id"] = self.incident_id
        if self.state == "resolved":
            changed["resolved_at"] = self.at
        elif self.state == "acknowledged":
            changed |= {"acknowledged_at": self.at, "acknowledged_by": self.by}
        if self.level is not None:
            changed["level"] = self.level
        if self.value is not None:
            changed["value"] = self.value
        return changed


class PushSubscriptionRecord(Record):
    """A browser's Web Push subscription; key ``endpoint``. Re-subscribing replaces it.

    ``servers``, ``roles`` and ``regions`` narrow what it is sent (empty: everything);
    ``failures`` counts deliveries that failed in a row, ``last_error`` says how the last did
    (``supabase/migrations/0002_push_subscriptions.sql``).
    """

    endpoint: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2048)]
    p256dh: Name
    auth: Name
    label: Text | None = None
    min_level: AlertLevel = "warning"
    created_at: UtcDatetime = Field(description="When it was (last) subscribed.")
    lang: Literal["ko", "en"] = "en"
    servers: tuple[Name, ...] = ()
    roles: tuple[Name, ...] = ()
    regions: tuple[Name, ...] = ()
    failures: NonNegativeInt = 0
    last_error: Text | None = None
    last_sent_at: UtcDatetime | None = None


class AuditEntry(Record):
    """Who did what to what, from where; key ``id``."""

    id: UUID
    at: UtcDatetime
    actor: Name
    role: Name
    action: Name
    target: Text | None = None
    client_ip: Name | None = None
    details: JsonMap = Field(default_factory=dict)


class TranscriptRecord(Record):
    """One question to the AI assistant and its answer; key ``id``."""

    id: Name
    at: UtcDatetime
    question: Text
    answer: Text
    engine: Name
    lang: Name
    latency_ms: NonNegativeInt
    meta: JsonMap = Field(default_factory=dict)


# The replayable writes, by method name, and the record type each takes a sequence of.
WRITE_OPS: Mapping[str, type[Record]] = MappingProxyType(
    {
        "upsert_rollups": RollupRecord,
        "upsert_incidents": IncidentRecord,
        "insert_alerts": AlertRecord,
        "update_alert_states": AlertStateChange,
        "upsert_push_subscriptions": PushSubscriptionRecord,
        "insert_audit_entries": AuditEntry,
        "insert_transcripts": TranscriptRecord,
    }
)


class Repository(Protocol):
    """History storage. Calls raise ``StoreUnavailable``/``StoreTimeout``/``StoreError``.

    ``requests_sent`` counts round trips to the store (HTTP requests for Supabase, transactions
    and queries for SQLite); ``writes_sent`` the ones that write.
    """

    backend: str

    @property
    def requests_sent(self) -> int: ...

    @property
    def writes_sent(self) -> int: ...

    def ping(self) -> None:
        """Return if the store answers; raise a ``StoreError`` subclass if not."""

    def close(self) -> None:
        """Release connections; the repository is not used afterwards."""

    def upsert_rollups(self, rows: Sequence[RollupRecord]) -> None:
        """Insert or replace rollups by ``(server_id, minute)``; last of equal keys wins."""

    def upsert_incidents(self, incidents: Sequence[IncidentRecord]) -> None:
        """Insert or replace incidents by ``id``; last of equal keys wins."""

    def insert_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        """Insert alerts; an ``id`` already stored is left as it is."""

    def update_alert_states(self, changes: Sequence[AlertStateChange]) -> int:
        """Apply state changes in order; return how many rows matched (0 for unknown ids)."""

    def upsert_push_subscriptions(self, subscriptions: Sequence[PushSubscriptionRecord]) -> None:
        """Insert or replace subscriptions by ``endpoint``."""

    def insert_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        """Insert audit entries; an ``id`` already stored is left as it is."""

    def insert_transcripts(self, transcripts: Sequence[TranscriptRecord]) -> None:
        """Insert transcripts; an ``id`` already stored is left as it is."""

    def apply(self, op: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Validate JSON ``records`` as ``WRITE_OPS[op]`` and run write ``op`` on them."""

    def delete_push_subscription(self, endpoint: str) -> bool:
        """Forget a subscription; return whether it existed."""

    def delete_older_than(self, cutoff: datetime) -> dict[str, int]:
        """Retention: delete rollups, resolved alerts, closed incidents, audit entries and
        transcripts older than ``cutoff``; return rows deleted per table name."""

    def list_rollups(
        self,
        *,
        server_ids: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 10_000,
    ) -> list[RollupRecord]:
        """Rollups by ``minute`` in the range, oldest first (then by server id)."""

    def get_incident(self, incident_id: str) -> IncidentRecord | None: ...

    def list_incidents(
        self,
        *,
        statuses: Sequence[IncidentStatus] | None = None,
        incident_type: str | None = None,
        server_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[IncidentRecord]:
        """Incidents by ``started_at`` in the range, newest first; ``server_id`` in ``servers``."""

    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def list_alerts(
        self,
        *,
        states: Sequence[AlertState] | None = None,
        levels: Sequence[AlertLevel] | None = None,
        server_id: str | None = None,
        incident_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AlertRecord]:
        """Alerts by ``fired_at`` in the range, newest first."""

    def list_push_subscriptions(
        self, *, for_level: AlertLevel | None = None, limit: int = 10_000
    ) -> list[PushSubscriptionRecord]:
        """Subscriptions, oldest first; with ``for_level``, those whose ``min_level`` admits it."""

    def list_audit_entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit entries by ``at`` in the range, newest first."""

    def list_transcripts(
        self, *, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[TranscriptRecord]:
        """Transcripts by ``at`` in the range, newest first."""


def validate_records(op: str, records: Sequence[Mapping[str, Any]]) -> list[Record]:
    """``records`` as ``WRITE_OPS[op]`` models; ``ValidationError`` naming the op otherwise."""
    record_type = WRITE_OPS.get(op)
    if record_type is None:
        raise ValidationError(f"unknown write operation {op!r}", field="op")
    try:
        return [record_type.model_validate(record) for record in records]
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValidationError(f"invalid {op} record: {field}: {first['msg']}", field=field) from exc


def levels_admitting(level: AlertLevel) -> tuple[AlertLevel, ...]:
    """The ``min_level`` values that let an alert of ``level`` through."""
    return ALERT_LEVELS[: ALERT_LEVELS.index(level) + 1]


def checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be within 1..{MAX_LIMIT}, got {limit}", field="limit")
    return limit


@overload
def checked_time(name: str, value: datetime) -> datetime: ...
@overload
def checked_time(name: str, value: None) -> None: ...
def checked_time(name: str, value: datetime | None) -> datetime | None:
    """A query bound in UTC; naive datetimes are ambiguous and refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be timezone-aware", field=name)
    return value.astimezone(UTC)


def last_per_key[R: Record](records: Sequence[R], key: str | tuple[str, ...]) -> list[R]:
    """Drop all but the last record of each key, keeping order (one statement may not
    upsert a key twice in PostgreSQL)."""
    names = (key,) if isinstance(key, str) else key
    latest = {tuple(getattr(r, n) for n in names): r for r in records}
    return list(latest.values())


class UsageCounter:
    """Thread-safe tally of round trips to a store, and of those that write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.writes = 0

    def count(self, *, write: bool) -> None:
        with self._lock:
            self.requests += 1
            self.writes += write
