"""``SqliteRepository``: the ``Repository`` port on the stdlib ``sqlite3``, the embedded default.

One connection behind a lock serves every thread of the process: history calls are short,
and a single writer is what SQLite allows anyway. The file is in WAL mode so other processes
(``make dev`` with reload, a CLI) read while one writes; the busy timeout is ``timeout_s``.

The tables mirror ``supabase/migrations/`` (``0001_init.sql``, ``0002_push_subscriptions.sql``,
``0003_incident_diagnosis.sql``; ``_upgrade`` adds 0002's and 0003's columns to older files).
Times are stored as fixed-width UTC text (``2026-01-01T00:00:00.000000Z``) so that text order
is time order; lists and objects are JSON text. Tables are STRICT, so a wrong type fails here
as it would in PostgreSQL.

About 500 lines: a fifth is the DDL, kept beside the code that maps records onto it, and most
of the rest is the protocol's read signatures, one short method each.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lib.config import AlertLevel
from lib.errors import StoreError, StoreTimeout, StoreUnavailable
from lib.store.db import (
    ALERTS,
    AUDIT_LOG,
    CLOSED_INCIDENTS,
    INCIDENTS,
    PUSH_SUBSCRIPTIONS,
    ROLLUPS,
    TRANSCRIPTS,
    AlertRecord,
    AlertState,
    AlertStateChange,
    AuditEntry,
    IncidentRecord,
    IncidentStatus,
    PushSubscriptionRecord,
    Record,
    RollupRecord,
    TranscriptRecord,
    UsageCounter,
    checked_limit,
    checked_time,
    levels_admitting,
    validate_records,
)

_SCHEMA = """
create table if not exists metric_rollups (
    server_id text not null,
    minute text not null,
    samples integer not null check (samples > 0),
    "avg" text not null check (json_valid("avg")),
    "max" text not null check (json_valid("max")),
    primary key (server_id, minute)
) strict, without rowid;
create index if not exists metric_rollups_minute_idx on metric_rollups (minute);

create table if not exists incidents (
    id text primary key,
    type text not null,
    servers text not null default '[]' check (json_valid(servers)),
    root_server text,
    status text not null
        check (status in ('active', 'recovering', 'recovered', 'escalated', 'resolved')),
    started_at text not null,
    detected_at text,
    recovery_attempted_at text,
    recovered_at text,
    escalated_at text,
    resolved_at text,
    resolved_by text,
    strategy text,
    timeline text not null default '[]' check (json_valid(timeline)),
    diagnosis text not null default '{}' check (json_valid(diagnosis)),
    scenario text not null default '{}' check (json_valid(scenario))
) strict;
create index if not exists incidents_started_idx on incidents (started_at desc, id desc);
create index if not exists incidents_status_idx on incidents (status, started_at desc);
create index if not exists incidents_type_idx on incidents (type, started_at desc);

create table if not exists alerts (
    id text primary key,
    incident_id text,
    server_id text not null,
    metric text not null,
    level text not null check (level in ('info', 'warning', 'error', 'critical')),
    state text not null check (state in ('pending', 'firing', 'resolved', 'acknowledged')),
    value real not null,
    threshold real not null,
    fired_at text not null,
    resolved_at text,
    acknowledged_at text,
    acknowledged_by text,
    message text not null default ''
) strict;
create index if not exists alerts_fired_idx on alerts (fired_at desc, id desc);
create index if not exists alerts_server_idx on alerts (server_id, fired_at desc);
create index if not exists alerts_state_idx on alerts (state, fired_at desc);
create index if not exists alerts_incident_idx on alerts (incident_id)
    where incident_id is not null;

create table if not exists push_subscriptions (
    endpoint text primary key,
    p256dh text not null,
    auth text not null,
    label text,
    min_level text not null check (min_level in ('info', 'warning', 'error', 'critical')),
    created_at text not null,
    lang text not null default 'en' check (lang in ('ko', 'en')),
    servers text not null default '[]' check (json_valid(servers)),
    roles text not null default '[]' check (json_valid(roles)),
    regions text not null default '[]' check (json_valid(regions)),
    failures integer not null default 0 check (failures >= 0),
    last_error text,
    last_sent_at text
) strict;

create table if not exists audit_log (
    id text primary key,
    at text not null,
    actor text not null,
    role text not null,
    action text not null,
    target text,
    client_ip text,
    details text not null default '{}' check (json_valid(details))
) strict;
create index if not exists audit_log_at_idx on audit_log (at desc, id desc);
create index if not exists audit_log_actor_idx on audit_log (actor, at desc);
create index if not exists audit_log_action_idx on audit_log (action, at desc);

create table if not exists ai_transcripts (
    id text primary key,
    at text not null,
    question text not null,
    answer text not null,
    engine text not null,
    lang text not null,
    latency_ms integer not null check (latency_ms >= 0),
    meta text not null default '{}' check (json_valid(meta))
) strict;
create index if not exists ai_transcripts_at_idx on ai_transcripts (at desc, id desc);
"""

# SQLite error names (``sqlite_errorname``) by the error class they mean for a caller.
_TIMEOUT_ERRORS = ("SQLITE_BUSY", "SQLITE_LOCKED")
_UNAVAILABLE_ERRORS = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CORRUPT")
_UNAVAILABLE_ERRORS += ("SQLITE_NOTADB", "SQLITE_READONLY", "SQLITE_PERM")


def encode_time(value: datetime | None) -> str | None:
    """Fixed-width UTC text: ``isoformat`` pads the year and always writes microseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _Table[R: Record]:
    """How one record type maps to its table."""

    name: str
    model: type[R]
    key: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    time_columns: frozenset[str] = frozenset()
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.model.model_fields))

    def to_row(self, record: R) -> tuple[Any, ...]:
        data = record.model_dump(mode="json")
        return tuple(self._encode(name, getattr(record, name), data[name]) for name in self.columns)

    def _encode(self, name: str, value: Any, jsonable: Any) -> Any:
        if name in self.time_columns:
            return encode_time(value)
        if name in self.json_columns:
            return json.dumps(jsonable, ensure_ascii=False, separators=(",", ":"))
        return jsonable

    def from_row(self, row: sqlite3.Row) -> R:
        data = {
            name: json.loads(row[name]) if name in self.json_columns else row[name]
            for name in self.columns
        }
        return self.model.model_validate(data)

    def write_sql(self, on_conflict: Literal["update", "ignore"]) -> str:
        names = ", ".join(f'"{c}"' for c in self.columns)
        slots = ", ".join("?" * len(self.columns))
        target = ", ".join(self.key)
        statement = f"insert into {self.name} ({names}) values ({slots}) on conflict ({target})"
        if on_conflict == "ignore":
            return f"{statement} do nothing"
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in self.columns if c not in self.key)
        return f"{statement} do update set {updates}"

    def select_sql(self) -> str:
        return f"select {', '.join(f'"{c}"' for c in self.columns)} from {self.name}"


_TIMES = frozenset({"at"})
_ROLLUPS = _Table(
    ROLLUPS, RollupRecord, ("server_id", "minute"), frozenset({"avg", "max"}), frozenset({"minute"})
)
_INCIDENTS = _Table(
    INCIDENTS,
    IncidentRecord,
    ("id",),
    frozenset({"servers", "timeline", "diagnosis", "scenario"}),
    frozenset(
        {"started_at", "detected_at", "recovery_attempted_at", "recovered_at", "escalated_at"}
        | {"resolved_at"}
    ),
)
_ALERTS = _Table(
    ALERTS,
    AlertRecord,
    ("id",),
    time_columns=frozenset({"fired_at", "resolved_at", "acknowledged_at"}),
)
_PUSH = _Table(
    PUSH_SUBSCRIPTIONS,
    PushSubscriptionRecord,
    ("endpoint",),
    frozenset({"servers", "roles", "regions"}),
    frozenset({"created_at", "last_sent_at"}),
)
# Columns 0002_push_subscriptions.sql added, for files created before it.
_PUSH_UPGRADE = {
    "lang": "text not null default 'en' check (lang in ('ko', 'en'))",
    "servers": "text not null default '[]' check (json_valid(servers))",
    "roles": "text not null default '[]' check (json_valid(roles))",
    "regions": "text not null default '[]' check (json_valid(regions))",
    "failures": "integer not null default 0 check (failures >= 0)",
    "last_error": "text",
    "last_sent_at": "text",
}
# Columns 0003_incident_diagnosis.sql added.
_INCIDENT_UPGRADE = {
    "diagnosis": "text not null default '{}' check (json_valid(diagnosis))",
    "scenario": "text not null default '{}' check (json_valid(scenario))",
}
_AUDIT = _Table(AUDIT_LOG, AuditEntry, ("id",), frozenset({"details"}), _TIMES)
_TRANSCRIPTS = _Table(TRANSCRIPTS, TranscriptRecord, ("id",), frozenset({"meta"}), _TIMES)


class _Where:
    """A conjunction of SQL conditions with their parameters."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params += params

    def one_of(self, column: str, values: Sequence[Any] | None) -> None:
        if values is not None:
            self.add(f'"{column}" in ({", ".join("?" * len(values))})', *values)

    def equal(self, column: str, value: Any | None) -> None:
        if value is not None:
            self.add(f'"{column}" = ?', value)

    def between(self, column: str, start: datetime | None, end: datetime | None) -> None:
        if (start := checked_time("start", start)) is not None:
            self.add(f'"{column}" >= ?', encode_time(start))
        if (end := checked_time("end", end)) is not None:
            self.add(f'"{column}" < ?', encode_time(end))

    def __str__(self) -> str:
        return f" where {' and '.join(self.conditions)}" if self.conditions else ""


def _upgrade(conn: sqlite3.Connection) -> None:
    """Add the columns later migrations brought to a file an older version created."""
    for table, columns in ((PUSH_SUBSCRIPTIONS, _PUSH_UPGRADE), (INCIDENTS, _INCIDENT_UPGRADE)):
        have = {row["name"] for row in conn.execute(f"pragma table_info({table})")}
        for column, definition in columns.items():
            if column not in have:
                conn.execute(f"alter table {table} add column {column} {definition}")


class SqliteRepository:
    """History in a SQLite file (created with its parent directory when missing)."""

    backend = "sqlite"

    def __init__(self, path: str | Path, *, timeout_s: float = 3.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._counter = UsageCounter()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("pragma journal_mode = wal")
            conn.execute("pragma synchronous = normal")  # durable at checkpoints, safe in WAL
            conn.executescript(_SCHEMA)
            _upgrade(conn)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the SQLite file {self.path}", backend="sqlite", reason=str(exc)
            ) from exc
        except sqlite3.Error as exc:
            raise self._translate(exc, "open") from exc
        self._conn = conn

    @property
    def requests_sent(self) -> int:
        return self._counter.requests

    @property
    def writes_sent(self) -> int:
        return self._counter.writes

    def ping(self) -> None:
        with self._session("ping", write=False) as conn:
            conn.execute("select 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def upsert_rollups(self, rows: Sequence[RollupRecord]) -> None:
        self._write(_ROLLUPS, rows, "update")

    def upsert_incidents(self, incidents: Sequence[IncidentRecord]) -> None:
        self._write(_INCIDENTS, incidents, "update")

    def insert_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        self._write(_ALERTS, alerts, "ignore")

    def update_alert_states(self, changes: Sequence[AlertStateChange]) -> int:
        if not changes:
            return 0
        matched = 0
        with self._session("update_alert_states", write=True) as conn:
            for change in changes:
                columns = change.columns()
                sets = ", ".join(f'"{c}" = ?' for c in columns)
                values = [
                    encode_time(v) if isinstance(v, datetime) else v for v in columns.values()
                ]
                cursor = conn.execute(
                    f"update alerts set {sets} where id = ?", [*values, change.id]
                )
                matched += cursor.rowcount
        return matched

    def upsert_push_subscriptions(self, subscriptions: Sequence[PushSubscriptionRecord]) -> None:
        self._write(_PUSH, subscriptions, "update")

    def insert_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        self._write(_AUDIT, entries, "ignore")

    def insert_transcripts(self, transcripts: Sequence[TranscriptRecord]) -> None:
        self._write(_TRANSCRIPTS, transcripts, "ignore")

    def apply(self, op: str, records: Sequence[Mapping[str, Any]]) -> None:
        valid = validate_records(op, records)
        getattr(self, op)(valid)

    def delete_push_subscription(self, endpoint: str) -> bool:
        with self._session("delete_push_subscription", write=True) as conn:
            cursor = conn.execute("delete from push_subscriptions where endpoint = ?", [endpoint])
            return cursor.rowcount > 0

    def delete_older_than(self, cutoff: datetime) -> dict[str, int]:
        before = encode_time(checked_time("cutoff", cutoff))
        closed = " or ".join(
            f"(status = ? and {column} < ?)" for column in CLOSED_INCIDENTS.values()
        )
        closed_params = [p for status in CLOSED_INCIDENTS for p in (status, before)]
        statements = {
            ROLLUPS: ("delete from metric_rollups where minute < ?", [before]),
            ALERTS: ("delete from alerts where state = 'resolved' and resolved_at < ?", [before]),
            INCIDENTS: (f"delete from incidents where {closed}", closed_params),
            AUDIT_LOG: ("delete from audit_log where at < ?", [before]),
            TRANSCRIPTS: ("delete from ai_transcripts where at < ?", [before]),
        }
        with self._session("delete_older_than", write=True) as conn:
            return {
                table: conn.execute(statement, params).rowcount
                for table, (statement, params) in statements.items()
            }

    def list_rollups(
        self,
        *,
        server_ids: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 10_000,
    ) -> list[RollupRecord]:
        where = _Where()
        where.one_of("server_id", server_ids)
        where.between("minute", start, end)
        return self._select(_ROLLUPS, where, "minute, server_id", limit)

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        where = _Where()
        where.equal("id", incident_id)
        found = self._select(_INCIDENTS, where, "id", 1)
        return found[0] if found else None

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
        where = _Where()
        where.one_of("status", statuses)
        where.equal("type", incident_type)
        if server_id is not None:
            where.add("exists (select 1 from json_each(servers) where value = ?)", server_id)
        where.between("started_at", start, end)
        return self._select(_INCIDENTS, where, "started_at desc, id desc", limit)

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        where = _Where()
        where.equal("id", alert_id)
        found = self._select(_ALERTS, where, "id", 1)
        return found[0] if found else None

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
        where = _Where()
        where.one_of("state", states)
        where.one_of("level", levels)
        where.equal("server_id", server_id)
        where.equal("incident_id", incident_id)
        where.between("fired_at", start, end)
        return self._select(_ALERTS, where, "fired_at desc, id desc", limit)

    def list_push_subscriptions(
        self, *, for_level: AlertLevel | None = None, limit: int = 10_000
    ) -> list[PushSubscriptionRecord]:
        where = _Where()
        where.one_of("min_level", levels_admitting(for_level) if for_level else None)
        return self._select(_PUSH, where, "created_at, endpoint", limit)

    def list_audit_entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        where = _Where()
        where.equal("actor", actor)
        where.equal("action", action)
        where.between("at", start, end)
        return self._select(_AUDIT, where, "at desc, id desc", limit)

    def list_transcripts(
        self, *, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[TranscriptRecord]:
        where = _Where()
        where.between("at", start, end)
        return self._select(_TRANSCRIPTS, where, "at desc, id desc", limit)

    def _write[R: Record](
        self, table: _Table[R], records: Sequence[R], on_conflict: Literal["update", "ignore"]
    ) -> None:
        if not records:
            return
        rows = [table.to_row(record) for record in records]
        with self._session(f"write {table.name}", write=True) as conn:
            conn.executemany(table.write_sql(on_conflict), rows)

    def _select[R: Record](
        self, table: _Table[R], where: _Where, order: str, limit: int
    ) -> list[R]:
        statement = f"{table.select_sql()}{where} order by {order} limit ?"
        params = [*where.params, checked_limit(limit)]
        with self._session(f"read {table.name}", write=False) as conn:
            rows = conn.execute(statement, params).fetchall()
        return [table.from_row(row) for row in rows]

    @contextmanager
    def _session(self, op: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """The connection, exclusively; a write runs in one immediate transaction."""
        self._counter.count(write=write)
        try:
            with self._lock:
                conn = self._conn
                if write:
                    conn.execute("begin immediate")
                try:
                    yield conn
                    if conn.in_transaction:
                        conn.commit()
                finally:
                    if conn.in_transaction:
                        conn.rollback()
        except sqlite3.Error as exc:
            raise self._translate(exc, op) from exc

    def _translate(self, exc: sqlite3.Error, op: str) -> StoreError:
        name = getattr(exc, "sqlite_errorname", "")
        details = {"backend": "sqlite", "op": op, "reason": str(exc)}
        if name.startswith(_TIMEOUT_ERRORS):
            return StoreTimeout(
                f"SQLite stayed locked for {self.timeout_s}s during {op}", **details
            )
        if name.startswith(_UNAVAILABLE_ERRORS) or "closed database" in str(exc):
            return StoreUnavailable(f"SQLite file {self.path} unusable during {op}", **details)
        return StoreError(f"SQLite refused {op}: {exc}", **details)
