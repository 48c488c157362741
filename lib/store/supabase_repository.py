"""``SupabaseRepository``: the ``Repository`` port on the ``supabase`` client (PostgREST).

The client is built on first use, not in the constructor: importing ``supabase`` costs a few
hundred milliseconds, which a cold function that never touches history must not pay.

Requests go through our own ``httpx.Client`` so that the timeout is exact (postgrest-py
truncates a numeric timeout to whole seconds) and every request is counted. The client's own
retries are off: they sleep 1, 2, 4 s, beyond any request budget; failed writes are retried by
the outbox instead. Vendor errors become ``lib.errors`` at this boundary: no answer in time is
``StoreTimeout``; refused or dropped connections, 5xx and 429 are ``StoreUnavailable``; other
4xx are ``StoreError`` carrying PostgREST's code, message and hint. No message holds the key.

Reads page through ``page_size`` rows per request (Supabase answers at most "Max Rows", 1000 by
default, per request; keep ``page_size`` at or below it); writes go in batches of ``batch_size``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pydantic

from lib.config import AlertLevel
from lib.errors import ConfigError, StoreError, StoreTimeout, StoreUnavailable
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
    last_per_key,
    levels_admitting,
    validate_records,
)

if TYPE_CHECKING:
    import httpx
    from postgrest import SyncRequestBuilder, SyncSelectRequestBuilder
    from supabase import Client

Query = Callable[["SyncSelectRequestBuilder"], "SyncSelectRequestBuilder"]
_GATEWAY_TIMEOUT, _QUERY_CANCELED = 504, "57014"


class SupabaseRepository:
    """History in Supabase, reached with the service-role key (which bypasses RLS)."""

    backend = "supabase"

    def __init__(
        self,
        url: str,
        service_role_key: str,
        *,
        timeout_s: float,
        page_size: int = 1000,
        batch_size: int = 500,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigError("SUPABASE_URL must be an http(s) URL", variable="SUPABASE_URL")
        if not service_role_key:
            raise ConfigError(
                "SUPABASE_SERVICE_ROLE_KEY is empty", variable="SUPABASE_SERVICE_ROLE_KEY"
            )
        self.url = url
        self.timeout_s = timeout_s
        self.page_size = page_size
        self.batch_size = batch_size
        self._key = service_role_key
        self._counter = UsageCounter()
        self._build_lock = threading.Lock()
        self._client: Client | None = None
        self._http: httpx.Client | None = None
        self._last = threading.local()  # status of this thread's last response

    @property
    def requests_sent(self) -> int:
        return self._counter.requests

    @property
    def writes_sent(self) -> int:
        return self._counter.writes

    def ping(self) -> None:
        self._rows(PUSH_SUBSCRIPTIONS, "ping", lambda q: q, [], 1)

    def close(self) -> None:
        with self._build_lock:
            if self._http is not None:
                self._http.close()
            self._client = self._http = None

    def upsert_rollups(self, rows: Sequence[RollupRecord]) -> None:
        self._upsert(ROLLUPS, last_per_key(rows, ("server_id", "minute")), "server_id,minute")

    def upsert_incidents(self, incidents: Sequence[IncidentRecord]) -> None:
        self._upsert(INCIDENTS, last_per_key(incidents, "id"), "id")

    def insert_alerts(self, alerts: Sequence[AlertRecord]) -> None:
        self._upsert(ALERTS, alerts, "id", ignore_duplicates=True)

    def update_alert_states(self, changes: Sequence[AlertStateChange]) -> int:
        from postgrest.types import CountMethod, ReturnMethod

        matched = 0
        for change in changes:
            columns = {
                name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in change.columns().items()
            }
            with self._translated("update_alert_states", ALERTS):
                response = (
                    self._table(ALERTS)
                    .update(columns, count=CountMethod.exact, returning=ReturnMethod.minimal)
                    .eq("id", change.id)
                    .execute()
                )
            matched += response.count or 0
        return matched

    def upsert_push_subscriptions(self, subscriptions: Sequence[PushSubscriptionRecord]) -> None:
        self._upsert(PUSH_SUBSCRIPTIONS, last_per_key(subscriptions, "endpoint"), "endpoint")

    def insert_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        self._upsert(AUDIT_LOG, entries, "id", ignore_duplicates=True)

    def insert_transcripts(self, transcripts: Sequence[TranscriptRecord]) -> None:
        self._upsert(TRANSCRIPTS, transcripts, "id", ignore_duplicates=True)

    def apply(self, op: str, records: Sequence[Mapping[str, Any]]) -> None:
        valid = validate_records(op, records)
        getattr(self, op)(valid)

    def delete_push_subscription(self, endpoint: str) -> bool:
        return self._delete(PUSH_SUBSCRIPTIONS, {"endpoint": endpoint}, {}) > 0

    def delete_older_than(self, cutoff: datetime) -> dict[str, int]:
        before = checked_time("cutoff", cutoff).isoformat()
        closed = sum(
            self._delete(INCIDENTS, {"status": status}, {column: before})
            for status, column in CLOSED_INCIDENTS.items()
        )
        return {
            ROLLUPS: self._delete(ROLLUPS, {}, {"minute": before}),
            ALERTS: self._delete(ALERTS, {"state": "resolved"}, {"resolved_at": before}),
            INCIDENTS: closed,
            AUDIT_LOG: self._delete(AUDIT_LOG, {}, {"at": before}),
            TRANSCRIPTS: self._delete(TRANSCRIPTS, {}, {"at": before}),
        }

    def list_rollups(
        self,
        *,
        server_ids: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 10_000,
    ) -> list[RollupRecord]:
        if server_ids is not None and not server_ids:
            return []

        def query(q: SyncSelectRequestBuilder) -> SyncSelectRequestBuilder:
            if server_ids is not None:
                q = q.in_("server_id", server_ids)
            return _between(q, "minute", start, end)

        order = [("minute", False), ("server_id", False)]
        return self._list(ROLLUPS, RollupRecord, query, order, limit)

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        found = self._list(INCIDENTS, IncidentRecord, lambda q: q.eq("id", incident_id), [], 1)
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
        if statuses is not None and not statuses:
            return []

        def query(q: SyncSelectRequestBuilder) -> SyncSelectRequestBuilder:
            if statuses is not None:
                q = q.in_("status", statuses)
            if incident_type is not None:
                q = q.eq("type", incident_type)
            if server_id is not None:
                q = q.cs("servers", [server_id])
            return _between(q, "started_at", start, end)

        order = [("started_at", True), ("id", True)]
        return self._list(INCIDENTS, IncidentRecord, query, order, limit)

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        found = self._list(ALERTS, AlertRecord, lambda q: q.eq("id", alert_id), [], 1)
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
        if (states is not None and not states) or (levels is not None and not levels):
            return []

        def query(q: SyncSelectRequestBuilder) -> SyncSelectRequestBuilder:
            if states is not None:
                q = q.in_("state", states)
            if levels is not None:
                q = q.in_("level", levels)
            if server_id is not None:
                q = q.eq("server_id", server_id)
            if incident_id is not None:
                q = q.eq("incident_id", incident_id)
            return _between(q, "fired_at", start, end)

        order = [("fired_at", True), ("id", True)]
        return self._list(ALERTS, AlertRecord, query, order, limit)

    def list_push_subscriptions(
        self, *, for_level: AlertLevel | None = None, limit: int = 10_000
    ) -> list[PushSubscriptionRecord]:
        def query(q: SyncSelectRequestBuilder) -> SyncSelectRequestBuilder:
            return q.in_("min_level", levels_admitting(for_level)) if for_level else q

        order = [("created_at", False), ("endpoint", False)]
        return self._list(PUSH_SUBSCRIPTIONS, PushSubscriptionRecord, query, order, limit)

    def list_audit_entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        def query(q: SyncSelectRequestBuilder) -> SyncSelectRequestBuilder:
            if actor is not None:
                q = q.eq("actor", actor)
            if action is not None:
                q = q.eq("action", action)
            return _between(q, "at", start, end)

        order = [("at", True), ("id", True)]
        return self._list(AUDIT_LOG, AuditEntry, query, order, limit)

    def list_transcripts(
        self, *, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[TranscriptRecord]:
        order = [("at", True), ("id", True)]
        return self._list(
            TRANSCRIPTS, TranscriptRecord, lambda q: _between(q, "at", start, end), order, limit
        )

    def _upsert(
        self,
        table: str,
        records: Sequence[Record],
        on_conflict: str,
        *,
        ignore_duplicates: bool = False,
    ) -> None:
        from postgrest.types import ReturnMethod

        for first in range(0, len(records), self.batch_size):
            batch = [r.model_dump(mode="json") for r in records[first : first + self.batch_size]]
            with self._translated(f"write {table}", table):
                self._table(table).upsert(
                    batch,
                    on_conflict=on_conflict,
                    ignore_duplicates=ignore_duplicates,
                    returning=ReturnMethod.minimal,
                ).execute()

    def _delete(self, table: str, equal: dict[str, str], before: dict[str, str]) -> int:
        from postgrest.types import CountMethod, ReturnMethod

        with self._translated(f"delete {table}", table):
            request = self._table(table).delete(
                count=CountMethod.exact, returning=ReturnMethod.minimal
            )
            for column, value in equal.items():
                request = request.eq(column, value)
            for column, value in before.items():
                request = request.lt(column, value)
            return request.execute().count or 0

    def _list[R: Record](
        self, table: str, model: type[R], query: Query, order: list[tuple[str, bool]], limit: int
    ) -> list[R]:
        rows = self._rows(table, f"read {table}", query, order, checked_limit(limit))
        try:
            return [model.model_validate(row) for row in rows]
        except pydantic.ValidationError as exc:
            raise StoreError(
                f"Supabase returned {table} rows that do not fit the record",
                backend="supabase",
                table=table,
                reason=str(exc),
            ) from exc

    def _rows(
        self, table: str, op: str, query: Query, order: list[tuple[str, bool]], limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows, a page per request; a short page is the last one."""
        rows: list[dict[str, Any]] = []
        while len(rows) < limit:
            size = min(self.page_size, limit - len(rows))
            request = query(self._table(table).select("*"))
            for column, descending in order:
                request = request.order(column, desc=descending)
            with self._translated(op, table):
                page = request.range(len(rows), len(rows) + size - 1).execute().data
            rows += page  # type: ignore[arg-type]
            if len(page) < size:
                break
        return rows

    def _table(self, name: str) -> SyncRequestBuilder:
        return self._connect().table(name)

    def _connect(self) -> Client:
        with self._build_lock:
            if self._client is None:
                import httpx
                from supabase import ClientOptions, create_client

                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout_s),
                    event_hooks={"request": [self._on_request], "response": [self._on_response]},
                )
                options = ClientOptions(
                    httpx_client=self._http,
                    postgrest_client_retry=False,
                    auto_refresh_token=False,
                    persist_session=False,
                )
                self._client = create_client(self.url, self._key, options)
            return self._client

    def _on_request(self, request: httpx.Request) -> None:
        self._last.status = None
        self._counter.count(write=request.method not in ("GET", "HEAD"))

    def _on_response(self, response: httpx.Response) -> None:
        self._last.status = response.status_code

    @contextmanager
    def _translated(self, op: str, table: str) -> Iterator[None]:
        """Turn httpx and PostgREST errors into the ``lib.errors`` tree."""
        import httpx
        from postgrest import APIError

        details: dict[str, Any] = {"backend": "supabase", "op": op, "table": table}
        try:
            yield
        except httpx.TimeoutException as exc:
            raise StoreTimeout(
                f"Supabase did not answer {op} within {self.timeout_s}s",
                **details,
                reason=type(exc).__name__,
            ) from exc
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"Supabase unreachable during {op}",
                **details,
                reason=f"{type(exc).__name__}: {exc}",
            ) from exc
        except APIError as exc:
            status = getattr(self._last, "status", None)
            details |= {"status": status, "code": exc.code, "hint": exc.hint, "reason": exc.message}
            if status == _GATEWAY_TIMEOUT or exc.code == _QUERY_CANCELED:
                raise StoreTimeout(f"Supabase timed out during {op}", **details) from exc
            if status is None or status >= 500 or status == 429:
                raise StoreUnavailable(
                    f"Supabase failed {op} with status {status}", **details
                ) from exc
            raise StoreError(f"Supabase refused {op}: {exc.message}", **details) from exc


def _between(
    query: SyncSelectRequestBuilder, column: str, start: datetime | None, end: datetime | None
) -> SyncSelectRequestBuilder:
    if (start := checked_time("start", start)) is not None:
        query = query.gte(column, start.isoformat())
    if (end := checked_time("end", end)) is not None:
        query = query.lt(column, end.isoformat())
    return query
