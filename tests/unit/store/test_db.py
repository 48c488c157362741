"""The records of the Repository port: validation, UTC times, JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import ValidationError
from lib.store.db import (
    WRITE_OPS,
    AlertRecord,
    AlertStateChange,
    IncidentRecord,
    Repository,
    RollupRecord,
    TranscriptRecord,
    checked_limit,
    checked_time,
    last_per_key,
    levels_admitting,
    validate_records,
)
from lib.store.sqlite_repository import SqliteRepository
from lib.store.supabase_repository import SupabaseRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rollup(server: str = "web-01", at: datetime = T0, cpu: float = 1.0) -> RollupRecord:
    return RollupRecord(server_id=server, minute=at, samples=20, avg={"cpu": cpu}, max={"cpu": cpu})


def test_times_must_be_aware_and_come_out_in_utc() -> None:
    seoul = datetime(2026, 3, 1, 21, 0, tzinfo=timezone(timedelta(hours=9)))

    assert rollup(at=seoul).minute.tzinfo is UTC
    assert rollup(at=seoul).minute == T0
    with pytest.raises(pydantic.ValidationError):
        rollup(at=datetime(2026, 3, 1, 12, 0))


def test_rollup_minute_is_the_start_of_a_minute() -> None:
    with pytest.raises(pydantic.ValidationError, match="start of a minute"):
        rollup(at=T0 + timedelta(seconds=3))


def test_rollup_values_are_finite() -> None:
    with pytest.raises(pydantic.ValidationError):
        rollup(cpu=float("nan"))


def test_closed_states_say_when() -> None:
    with pytest.raises(pydantic.ValidationError, match="resolved_at"):
        IncidentRecord(id="i", type="t", servers=(), status="resolved", started_at=T0)
    with pytest.raises(pydantic.ValidationError, match="acknowledged_at"):
        AlertRecord(
            id="a",
            server_id="s",
            metric="cpu",
            level="info",
            state="acknowledged",
            value=1,
            threshold=1,
            fired_at=T0,
        )


def test_free_text_loses_nul_and_names_refuse_it() -> None:
    record = TranscriptRecord(
        id="t",
        at=T0,
        question="a\x00b",
        answer="",
        engine="rules",
        lang="en",
        latency_ms=1,
        meta={"k\x00": ["v\x00"]},
    )

    assert (record.question, record.meta) == ("ab", {"k": ["v"]})
    with pytest.raises(pydantic.ValidationError, match="NUL"):
        rollup(server="web\x00")


def test_records_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        rollup().samples = 3  # type: ignore[misc]


def test_alert_state_change_sets_only_its_columns() -> None:
    ack = AlertStateChange(id="a", state="acknowledged", at=T0, by="alice")
    escalation = AlertStateChange(id="a", state="firing", at=T0, level="critical", value=2.5)

    assert ack.columns() == {
        "state": "acknowledged",
        "acknowledged_at": T0,
        "acknowledged_by": "alice",
    }
    assert escalation.columns() == {"state": "firing", "level": "critical", "value": 2.5}


def test_levels_admitting() -> None:
    assert levels_admitting("info") == ("info",)
    assert levels_admitting("error") == ("info", "warning", "error")


def test_last_per_key_keeps_the_last_record_of_each_key() -> None:
    rows = [rollup("a", cpu=1), rollup("b"), rollup("a", cpu=2)]

    assert last_per_key(rows, ("server_id", "minute")) == [rollup("a", cpu=2), rollup("b")]


def test_checked_bounds() -> None:
    assert checked_time("start", None) is None
    with pytest.raises(ValidationError):
        checked_time("end", datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        checked_limit(0)


def test_validate_records_names_the_op_and_field() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_records("upsert_rollups", [{"server_id": "a"}])

    assert "upsert_rollups" in caught.value.message
    assert caught.value.details["field"]


@pytest.mark.parametrize("adapter", [SqliteRepository, SupabaseRepository])
def test_every_write_op_and_protocol_method_exists_on_each_adapter(adapter: type) -> None:
    protocol_methods = {n for n in vars(Repository) if not n.startswith("_")}

    assert set(WRITE_OPS) <= protocol_methods
    assert protocol_methods <= set(dir(adapter))


@settings(max_examples=50, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    )
)
def test_json_dump_and_validate_round_trip(at: datetime) -> None:
    change = AlertStateChange(id="a", state="resolved", at=at)

    again = AlertStateChange.model_validate(change.model_dump(mode="json"))

    assert again == change
    assert again.at == at
