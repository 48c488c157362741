from __future__ import annotations

import re

import pytest

from lib.push.notices import Notice
from lib.push.payload import delivery, encoded, payload, topic


def notice(**changes: object) -> Notice:
    fields: dict[str, object] = {
        "key": "inc-7:detected:100",
        "kind": "incident",
        "change": "opened",
        "level": "critical",
        "bucket": 100,
        "subject": "inc-7",
        "server": "db-02",
        "incident_id": "inc-7",
        "alert_id": "grp-db-02-99",
        "title": {"en": "Incident: database_timeout on db-02", "ko": "장애 발생: db-02"},
        "body": {"en": "Queries time out.", "ko": "쿼리가 타임아웃됩니다."},
    }
    return Notice(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_payload_carries_what_the_service_worker_shows_in_the_language(lang: str) -> None:
    data = payload(notice(), lang, 1_770_000_000.0)
    assert data["title"] == notice().title[lang]
    assert data["body"] == notice().body[lang]
    assert (data["level"], data["lang"], data["tag"]) == ("critical", lang, "inc-7")
    assert (data["incident_id"], data["alert_id"], data["server"]) == (
        "inc-7",
        "grp-db-02-99",
        "db-02",
    )
    assert data["url"] == "/?incident=inc-7"
    assert data["sent_at"] == "2026-02-02T02:40:00Z"


def test_a_late_notice_says_so_in_the_title() -> None:
    assert payload(notice(late=True), "ko", 0)["title"].startswith("[지연] ")
    assert payload(notice(late=True), "en", 0)["title"].startswith("[late] ")


def test_an_alert_without_incident_links_to_its_group() -> None:
    data = payload(notice(incident_id=None, kind="alert"), "en", 0)
    assert data["url"] == "/?alert=grp-db-02-99"


def test_a_long_body_keeps_the_encrypted_record_small() -> None:
    data = encoded(payload(notice(body={"en": "x" * 10_000, "ko": "가" * 10_000}), "ko", 0))
    assert len(data) < 3_000


@pytest.mark.parametrize(
    ("level", "urgency"),
    [("critical", "high"), ("error", "high"), ("warning", "normal"), ("info", "low")],
)
def test_ttl_and_urgency_follow_the_level(level: str, urgency: str) -> None:
    ttl, headers = delivery(notice(level=level))
    assert headers["Urgency"] == urgency
    order = ["info", "warning", "error", "critical"]
    ttls = [delivery(notice(level=name))[0] for name in order]
    assert ttls == sorted(ttls)
    assert ttl == ttls[order.index(level)]


def test_topic_is_stable_per_subject_and_fits_rfc_8030() -> None:
    a, b = topic("inc-7"), topic("inc-8")
    assert a == topic("inc-7")
    assert a != b
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", a)
    assert delivery(notice())[1]["Topic"] == a
