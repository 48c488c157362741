from __future__ import annotations

import pytest

from lib.alerts import Level, Notification
from lib.config import DEFAULT_EPOCH_S
from lib.engine.records import Event, incident_event
from lib.engine.world import IncidentTrack
from lib.push.notices import Notice, merged, notices_from
from lib.sim import build_fleet

FLEET = build_fleet(20_251_123, 30, epoch_s=DEFAULT_EPOCH_S)
API01 = FLEET.ids.index("api-01")


def note(reason: str, level: Level, bucket: int, group: str = "grp-api-01-10") -> Notification:
    return Notification(
        group_id=group,
        reason=reason,  # type: ignore[arg-type]
        level=level,
        bucket=bucket,
        root=API01,
        servers=(API01,),
        metrics=("cpu",),
        summary_en=f"api-01 cpu {reason}",
        summary_ko=f"api-01 CPU {reason}",
    )


def incident(change: str, bucket: int, **data: object) -> Event:
    fields: dict[str, object] = {
        "id": "inc-9",
        "change": change,
        "type": "cpu_overload",
        "status": "active",
        "root_server": "api-01",
        "servers": ["api-01", "web-01"],
        "strategy": "scale_up",
        "reason": {"en": f"{change} reason", "ko": f"{change} 사유"},
    }
    return Event("incident", bucket, fields | data)


def test_an_incident_opening_absorbs_its_group_and_carries_the_diagnosis() -> None:
    told = notices_from(
        FLEET, [note("opened", Level.ERROR, 10)], [incident("detected", 10)], min_level="warning"
    )
    [opened] = told.notices
    assert (opened.kind, opened.change, opened.level) == ("incident", "opened", "error")
    assert (opened.subject, opened.incident_id, opened.alert_id) == (
        "inc-9",
        "inc-9",
        "grp-api-01-10",
    )
    assert "scale_up" in opened.body["en"]
    assert "CPU" in opened.body["ko"]
    assert opened.roles == ("api", "web")
    assert told.links == {"grp-api-01-10": "inc-9"}


def test_later_escalations_of_an_incidents_group_are_not_told_twice() -> None:
    later = [note("escalated", Level.CRITICAL, 30)]
    told = notices_from(FLEET, later, [], incident_of={"grp-api-01-10": "inc-9"})
    assert told.notices == []
    alone = notices_from(FLEET, later, [])
    assert [(n.kind, n.change, n.level) for n in alone.notices] == [
        ("alert", "alert_escalated", "critical")
    ]


def test_transitions_have_their_levels_and_the_floor_applies() -> None:
    events = [
        incident("recovery_started", 20),
        incident("recovery_failed", 40),
        incident("closed", 60, status="resolved"),
    ]
    everything = notices_from(FLEET, [], events, incident_of={"grp-api-01-10": "inc-9"})
    assert [(n.change, n.level) for n in everything.notices] == [
        ("recovery_attempted", "info"),
        ("escalated", "critical"),
        ("resolved", "info"),
    ]
    assert everything.unlinked == ["grp-api-01-10"]
    loud = notices_from(FLEET, [], events, min_level="warning")
    assert [n.change for n in loud.notices] == ["escalated"]


def test_keys_are_deterministic_so_a_redone_range_records_the_same_notices() -> None:
    args = (FLEET, [note("opened", Level.ERROR, 10)], [incident("detected", 10)])
    assert notices_from(*args).notices == notices_from(*args).notices
    first = notices_from(*args).notices[0]
    assert Notice.from_json(first.to_json()) == first


def test_merging_keeps_the_latest_change_and_the_highest_level() -> None:
    a = notices_from(FLEET, [note("opened", Level.CRITICAL, 10)], [incident("detected", 10)])
    b = notices_from(FLEET, [], [incident("recovered", 30)])
    one = merged([*a.notices, *b.notices])
    assert (one.change, one.level, one.history) == (
        "recovered",
        "critical",
        ("opened", "recovered"),
    )


@pytest.mark.parametrize(
    ("event", "change", "level", "en", "ko"),
    [
        ("recovery_started", "recovery_attempted", "info", "scale_up: add capacity",
         "자원 증설: 용량 추가"),
        ("revised", "revised", "warning", "diagnosis revised (was cpu_overload): a breach",
         "진단 수정(이전: CPU 과부하): 침해"),
        ("reopened", "reopened", "warning", "the same failure came back on api-01 (recurrence 1)",
         "api-01에 같은 장애가 재발 (1회째)"),
    ],
)  # fmt: skip
def test_a_transition_is_told_with_the_engine_reason_in_each_language(
    event: str, change: str, level: str, en: str, ko: str
) -> None:
    """The engine's own event, not a hand-made one: its reason is a pair of texts (a body
    used to show that pair's Python form)."""
    track = IncidentTrack(
        id="inc-api-01-2", type="cpu_overload", servers=(API01,), root=API01,
        started_bucket=1, detected_bucket=2, group_id="grp-api-01-1",
        timeline=((9, event, (en, ko)),),
    )  # fmt: skip
    told = notices_from(
        FLEET, [], [incident_event(FLEET, track, 9, event)], incident_of={"grp-api-01-1": track.id}
    )
    [notice] = told.notices
    assert (notice.change, notice.level) == (change, level)
    assert notice.body == {"en": en, "ko": ko}


def test_an_incident_that_closes_and_comes_back_in_one_advance_keeps_its_new_group() -> None:
    """A catch-up can hold a leak's close and its return: the group that brought it back
    belongs to it, so that group's escalations are told as the incident's, not again."""
    back = note("opened", Level.WARNING, 200, group="grp-api-01-200")
    told = notices_from(
        FLEET,
        [note("opened", Level.ERROR, 10), back],
        [incident("detected", 10), incident("closed", 100), incident("reopened", 200)],
    )
    assert [n.change for n in told.notices] == ["opened", "resolved", "reopened"]
    assert told.notices[-1].level == "warning"  # the level of the alerts that brought it back
    assert told.links == {"grp-api-01-10": "inc-9", "grp-api-01-200": "inc-9"}
