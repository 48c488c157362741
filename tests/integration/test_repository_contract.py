"""One contract for every ``Repository`` adapter: SQLite on a temp file, and Supabase through
the real ``supabase`` client, the PostgREST-subset server and a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import ValidationError
from lib.store.db import (
    WRITE_OPS,
    AlertRecord,
    AlertStateChange,
    AuditEntry,
    IncidentRecord,
    PushSubscriptionRecord,
    Repository,
    RollupRecord,
    TimelineEntry,
    TranscriptRecord,
)
from lib.store.sqlite_repository import SqliteRepository
from lib.store.supabase_repository import SupabaseRepository
from tests.support.postgres_service import SERVICE_ROLE_KEY

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEOUL = timezone(timedelta(hours=9))


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def rollup(server: str, n: int, cpu: float = 50.0) -> RollupRecord:
    return RollupRecord(
        server_id=server,
        minute=minute(n),
        samples=20,
        avg={"cpu": cpu, "memory": 61.25, "disk": 40.0},
        max={"cpu": cpu + 10, "memory": 70.5, "disk": 41.0},
    )


def incident(ident: str, n: int, **changes: object) -> IncidentRecord:
    fields: dict[str, object] = {
        "id": ident,
        "type": "cpu_spike",
        "servers": ("web-01", "db-01"),
        "root_server": "db-01",
        "status": "active",
        "started_at": minute(n),
        "detected_at": minute(n) + timedelta(seconds=6),
        "timeline": (
            TimelineEntry(
                at=minute(n), event="detected", reason="cpu > 90%", reason_ko="CPU 90% 초과"
            ),
        ),
    }
    return IncidentRecord.model_validate(fields | changes)


def alert(ident: str, n: int, **changes: object) -> AlertRecord:
    fields: dict[str, object] = {
        "id": ident,
        "incident_id": "inc-1",
        "server_id": "web-01",
        "metric": "cpu",
        "level": "warning",
        "state": "firing",
        "value": 91.5,
        "threshold": 85.0,
        "fired_at": minute(n),
        "message": "CPU 91.5% > 85%",
    }
    return AlertRecord.model_validate(fields | changes)


def subscription(n: int, **changes: object) -> PushSubscriptionRecord:
    fields: dict[str, object] = {
        "endpoint": f"https://push.example.com/send/{n}",
        "p256dh": f"key-{n}",
        "auth": f"auth-{n}",
        "label": "운영팀",
        "min_level": "warning",
        "created_at": minute(n),
    }
    return PushSubscriptionRecord.model_validate(fields | changes)


def audit(n: int, **changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "id": uuid.UUID(int=n + 1000),
        "at": minute(n),
        "actor": "alice",
        "role": "admin",
        "action": "inject_failure",
        "target": "web-01",
        "client_ip": "203.0.113.7",
        "details": {"failure": "cpu_spike", "params": {"intensity": 0.8, "tags": ["a", None]}},
    }
    return AuditEntry.model_validate(fields | changes)


def transcript(n: int, **changes: object) -> TranscriptRecord:
    fields: dict[str, object] = {
        "id": f"tr-{n:03d}",
        "at": minute(n),
        "question": "CPU가 가장 높은 서버는?",
        "answer": "web-01 (91.5%)",
        "engine": "rules",
        "lang": "ko",
        "latency_ms": 42,
        "meta": {"intent": "top_cpu", "servers": ["web-01"], "score": 0.93},
    }
    return TranscriptRecord.model_validate(fields | changes)


@pytest.fixture(params=["sqlite", "supabase"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """Each adapter over an empty store."""
    repository: Repository
    if request.param == "sqlite":
        repository = SqliteRepository(tmp_path / "nested" / "history.db", timeout_s=2.0)
    else:
        server = request.getfixturevalue("postgrest_db")
        repository = SupabaseRepository(server.url, SERVICE_ROLE_KEY, timeout_s=5.0)
    yield repository
    repository.close()


def test_backend_names_itself_and_answers_ping(repo: Repository) -> None:
    repo.ping()
    assert repo.backend in ("sqlite", "supabase")


def test_rollup_upsert_is_idempotent_and_last_write_wins(repo: Repository) -> None:
    rows = [rollup(s, n) for s in ("web-01", "web-02") for n in range(3)]
    repo.upsert_rollups(rows)
    repo.upsert_rollups(rows)
    repo.upsert_rollups([rollup("web-01", 1, cpu=77.0), rollup("web-01", 1, cpu=78.0)])

    stored = repo.list_rollups()

    assert len(stored) == 6
    changed = next(r for r in stored if r.server_id == "web-01" and r.minute == minute(1))
    assert changed.avg["cpu"] == 78.0
    assert changed.max == {"cpu": 88.0, "memory": 70.5, "disk": 41.0}


def test_rollups_filter_by_servers_and_half_open_range_oldest_first(repo: Repository) -> None:
    repo.upsert_rollups([rollup(s, n) for n in range(5) for s in ("c", "a", "b")])

    found = repo.list_rollups(server_ids=["a", "c"], start=minute(1), end=minute(4))

    assert [(r.minute, r.server_id) for r in found] == [
        (minute(n), s) for n in (1, 2, 3) for s in ("a", "c")
    ]
    assert len(repo.list_rollups(limit=4)) == 4
    assert repo.list_rollups(server_ids=[]) == []


def test_rollup_reads_page_past_the_servers_row_cap(repo: Repository) -> None:
    servers = [f"srv-{i:02d}" for i in range(30)]
    repo.upsert_rollups([rollup(s, n) for n in range(40) for s in servers])

    everything = repo.list_rollups(limit=5000)
    capped = repo.list_rollups(limit=1100)

    assert len(everything) == 1200
    assert [(r.minute, r.server_id) for r in everything] == [
        (minute(n), s) for n in range(40) for s in servers
    ]
    assert capped == everything[:1100]


def test_incident_upsert_replaces_by_id_and_round_trips(repo: Repository) -> None:
    first = incident("inc-1", 0)
    repo.upsert_incidents([first])
    resolved = incident(
        "inc-1",
        0,
        status="resolved",
        resolved_at=minute(9),
        resolved_by="bob",
        strategy="restart",
        timeline=(*first.timeline, TimelineEntry(at=minute(9), event="resolved", reason=None)),
    )
    repo.upsert_incidents([resolved])
    repo.upsert_incidents([resolved])

    assert repo.get_incident("inc-1") == resolved
    assert repo.get_incident("missing") is None
    assert repo.list_incidents() == [resolved]


def test_incident_filters_newest_first(repo: Repository) -> None:
    repo.upsert_incidents(
        [
            incident("a", 0),
            incident(
                "b",
                1,
                type="memory_leak",
                status="recovering",
                servers=("api-01",),
                root_server="api-01",
                recovery_attempted_at=minute(2),
            ),
            incident("c", 2, status="escalated", escalated_at=minute(3)),
            incident("d", 3, status="recovered", recovered_at=minute(4)),
        ]
    )

    def ids(found: list[IncidentRecord]) -> list[str]:
        return [i.id for i in found]

    assert ids(repo.list_incidents()) == ["d", "c", "b", "a"]
    assert ids(repo.list_incidents(statuses=["active", "escalated"])) == ["c", "a"]
    assert ids(repo.list_incidents(incident_type="memory_leak")) == ["b"]
    assert ids(repo.list_incidents(server_id="db-01")) == ["d", "c", "a"]
    assert ids(repo.list_incidents(start=minute(1), end=minute(3))) == ["c", "b"]
    assert ids(repo.list_incidents(limit=2)) == ["d", "c"]
    assert repo.list_incidents(statuses=[]) == []


def test_duplicate_alert_insert_is_a_no_op(repo: Repository) -> None:
    original = alert("al-1", 0)
    repo.insert_alerts([original])
    repo.insert_alerts([alert("al-1", 5, value=99.0), alert("al-2", 1)])

    assert repo.get_alert("al-1") == original
    assert [a.id for a in repo.list_alerts()] == ["al-2", "al-1"]


def test_alert_state_changes_set_their_times_and_count_matches(repo: Repository) -> None:
    repo.insert_alerts([alert("al-1", 0), alert("al-2", 0), alert("al-3", 0)])
    ack = AlertStateChange(id="al-1", state="acknowledged", at=minute(2), by="alice")
    escalation = AlertStateChange(
        id="al-3", state="firing", at=minute(2), level="critical", value=99.5
    )

    matched = repo.update_alert_states(
        [ack, AlertStateChange(id="al-2", state="resolved", at=minute(3)), escalation]
    )
    replayed = repo.update_alert_states([ack])
    unknown = repo.update_alert_states([AlertStateChange(id="nope", state="firing", at=T0)])

    assert (matched, replayed, unknown) == (3, 1, 0)
    assert repo.get_alert("al-1") == alert(
        "al-1", 0, state="acknowledged", acknowledged_at=minute(2), acknowledged_by="alice"
    )
    assert repo.get_alert("al-2") == alert("al-2", 0, state="resolved", resolved_at=minute(3))
    assert repo.get_alert("al-3") == alert("al-3", 0, level="critical", value=99.5)


def test_a_link_sets_the_incident_and_nothing_else(repo: Repository) -> None:
    # Issue 15 row 3: incident_id was NULL in every stored alert.
    repo.insert_alerts([alert("al-1", 0), alert("al-2", 0)])
    repo.update_alert_states([AlertStateChange(id="al-1", state="resolved", at=minute(2))])
    link = AlertStateChange(id="al-1", at=minute(3), incident_id="inc-7")
    assert repo.update_alert_states([link, link]) == 2
    assert repo.get_alert("al-1") == alert(
        "al-1", 0, state="resolved", resolved_at=minute(2), incident_id="inc-7"
    )
    assert [a.id for a in repo.list_alerts(incident_id="inc-7")] == ["al-1"]
    with pytest.raises(ValueError, match="state or an incident_id"):
        AlertStateChange(id="al-2", at=minute(3))


def test_alert_filters_newest_first(repo: Repository) -> None:
    repo.insert_alerts(
        [
            alert("a", 0),
            alert("b", 1, level="critical", server_id="db-01"),
            alert("c", 2, incident_id=None, state="pending"),
            alert("d", 3, state="resolved", resolved_at=minute(4)),
        ]
    )

    def ids(found: list[AlertRecord]) -> list[str]:
        return [a.id for a in found]

    assert ids(repo.list_alerts(states=["firing", "pending"])) == ["c", "b", "a"]
    assert ids(repo.list_alerts(levels=["critical"])) == ["b"]
    assert ids(repo.list_alerts(server_id="web-01")) == ["d", "c", "a"]
    assert ids(repo.list_alerts(incident_id="inc-1")) == ["d", "b", "a"]
    assert ids(repo.list_alerts(start=minute(1), end=minute(3), limit=1)) == ["c"]
    assert repo.list_alerts(levels=[]) == []


def test_push_subscriptions_upsert_by_endpoint_filter_and_delete(repo: Repository) -> None:
    repo.upsert_push_subscriptions([subscription(1), subscription(2, min_level="critical")])
    renewed = subscription(1, p256dh="new-key", auth="new-auth", min_level="info")
    repo.upsert_push_subscriptions([renewed])

    assert repo.list_push_subscriptions() == [renewed, subscription(2, min_level="critical")]
    assert repo.list_push_subscriptions(for_level="warning") == [renewed]
    assert len(repo.list_push_subscriptions(for_level="critical")) == 2
    assert repo.delete_push_subscription(renewed.endpoint) is True
    assert repo.delete_push_subscription(renewed.endpoint) is False
    assert [s.min_level for s in repo.list_push_subscriptions()] == ["critical"]


def test_audit_entries_insert_once_round_trip_and_filter(repo: Repository) -> None:
    entries = [
        audit(0),
        audit(1, actor="bob", action="resolve_incident"),
        audit(2, details={}, target=None),
    ]
    repo.insert_audit_entries(entries)
    repo.insert_audit_entries([audit(0, actor="mallory")])

    assert repo.list_audit_entries() == entries[::-1]
    assert repo.list_audit_entries(actor="alice") == [entries[2], entries[0]]
    assert repo.list_audit_entries(action="resolve_incident") == [entries[1]]
    assert repo.list_audit_entries(start=minute(1), limit=1) == [entries[2]]


def test_transcripts_insert_once_round_trip_newest_first(repo: Repository) -> None:
    records = [transcript(n) for n in range(4)]
    repo.insert_transcripts(records)
    repo.insert_transcripts([transcript(0, answer="changed")])

    assert repo.list_transcripts() == records[::-1]
    assert repo.list_transcripts(start=minute(1), end=minute(3)) == [records[2], records[1]]


def test_retention_deletes_old_history_but_keeps_open_work(repo: Repository) -> None:
    old, new, cutoff = -100, 10, minute(0)
    repo.upsert_rollups([rollup("a", old), rollup("b", old), rollup("a", new)])
    repo.upsert_incidents(
        [
            incident("old-resolved", old, status="resolved", resolved_at=minute(old + 5)),
            incident("old-recovered", old, status="recovered", recovered_at=minute(old + 2)),
            incident("old-but-open", old, status="escalated", escalated_at=minute(old + 1)),
            incident("closed-late", old, status="resolved", resolved_at=minute(new)),
        ]
    )
    repo.insert_alerts(
        [
            alert("old-resolved", old, state="resolved", resolved_at=minute(old + 1)),
            alert("old-firing", old),
            alert("new-resolved", old, state="resolved", resolved_at=minute(new)),
        ]
    )
    repo.insert_audit_entries([audit(old), audit(new)])
    repo.insert_transcripts([transcript(old), transcript(old - 1), transcript(new)])

    deleted = repo.delete_older_than(cutoff)

    assert deleted == {
        "metric_rollups": 2,
        "alerts": 1,
        "incidents": 2,
        "audit_log": 1,
        "ai_transcripts": 2,
    }
    assert {i.id for i in repo.list_incidents()} == {"old-but-open", "closed-late"}
    assert {a.id for a in repo.list_alerts()} == {"old-firing", "new-resolved"}
    assert repo.delete_older_than(cutoff) == dict.fromkeys(deleted, 0)


def test_times_come_back_as_the_same_instants_in_utc(repo: Repository) -> None:
    seoul_noon = datetime(2026, 3, 1, 21, 0, 0, 123456, tzinfo=SEOUL)  # 12:00:00.123456Z
    repo.insert_transcripts([transcript(0, at=seoul_noon)])
    repo.insert_transcripts([transcript(1, at=seoul_noon + timedelta(microseconds=1))])

    found = repo.list_transcripts(
        start=datetime(2026, 3, 1, 21, 0, 0, 123456, tzinfo=SEOUL),
        end=datetime(2026, 3, 1, 7, 0, 0, 123457, tzinfo=timezone(timedelta(hours=-5))),
    )

    assert [t.id for t in found] == ["tr-000"]
    assert found[0].at == seoul_noon
    assert found[0].at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError) as caught:
        repo.list_transcripts(start=datetime(2026, 3, 1, 12, 0))
    assert caught.value.details["field"] == "start"


def test_apply_replays_json_records_of_every_write_op(repo: Repository) -> None:
    writes = {
        "upsert_rollups": [rollup("web-01", 0)],
        "upsert_incidents": [incident("inc-1", 0)],
        "insert_alerts": [alert("al-1", 0)],
        "update_alert_states": [AlertStateChange(id="al-1", state="resolved", at=minute(1))],
        "upsert_push_subscriptions": [subscription(0)],
        "insert_audit_entries": [audit(0)],
        "insert_transcripts": [transcript(0)],
    }
    assert set(writes) == set(WRITE_OPS)

    for op, records in writes.items():
        repo.apply(op, [r.model_dump(mode="json") for r in records])
        repo.apply(op, [r.model_dump(mode="json") for r in records])

    assert repo.list_rollups() == writes["upsert_rollups"]
    assert repo.list_incidents() == writes["upsert_incidents"]
    stored_alert = repo.get_alert("al-1")
    assert stored_alert is not None
    assert (stored_alert.state, stored_alert.resolved_at) == ("resolved", minute(1))
    assert repo.list_push_subscriptions() == writes["upsert_push_subscriptions"]
    assert repo.list_audit_entries() == writes["insert_audit_entries"]
    assert repo.list_transcripts() == writes["insert_transcripts"]


def test_apply_refuses_unknown_ops_and_invalid_records(repo: Repository) -> None:
    with pytest.raises(ValidationError) as unknown:
        repo.apply("drop_tables", [])
    with pytest.raises(ValidationError) as invalid:
        repo.apply("insert_alerts", [{"id": "x"}])

    assert unknown.value.details["field"] == "op"
    assert "insert_alerts" in invalid.value.message


def test_limits_are_bounded(repo: Repository) -> None:
    with pytest.raises(ValidationError):
        repo.list_alerts(limit=0)
    with pytest.raises(ValidationError):
        repo.list_rollups(limit=1_000_000)


def test_counters_tell_reads_from_writes(repo: Repository) -> None:
    requests, writes = repo.requests_sent, repo.writes_sent

    repo.upsert_rollups([rollup("a", 0)])
    repo.upsert_rollups([])
    repo.list_rollups()

    assert repo.writes_sent - writes == 1
    assert repo.requests_sent - requests == 2


def test_threads_can_share_one_repository(repo: Repository) -> None:
    def work(worker: int) -> None:
        repo.insert_alerts([alert(f"t{worker}-{n}", n) for n in range(5)])
        repo.upsert_rollups([rollup(f"srv-{worker}", n) for n in range(5)])
        repo.list_alerts(server_id="web-01")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))

    assert len(repo.list_alerts(limit=1000)) == 40
    assert len(repo.list_rollups()) == 40


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    meta=st.dictionaries(st.text(max_size=8), json_values, max_size=5), at=instants, text=st.text()
)
def test_json_text_and_time_round_trip(
    repo: Repository, meta: dict[str, object], at: datetime, text: str
) -> None:
    record = transcript(0, id=str(uuid.uuid4()), at=at, question=text, meta=meta)
    repo.insert_transcripts([record])

    found = repo.list_transcripts(start=record.at, end=record.at + timedelta(microseconds=1))

    assert [t for t in found if t.id == record.id] == [record]
