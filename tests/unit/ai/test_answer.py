"""Which moment a question is about, and what data it needs."""

from __future__ import annotations

from lib.ai.answer import data_needs, moment
from lib.ai.intents import parse
from lib.config import DEFAULT_EPOCH_S

BUCKET_S = 3
NOON = (20 * 86_400 + 12 * 3600) // BUCKET_S  # day 20, 12:00 UTC


def _at(question: str) -> tuple[float, int]:
    q = parse(question)
    b = moment(NOON, data_needs(q), q.lang, BUCKET_S, DEFAULT_EPOCH_S)
    return (b * BUCKET_S) % 86_400 / 3600, (b * BUCKET_S) // 86_400


def test_minutes_ago_move_the_moment_back() -> None:
    q = parse("10분 전 web-01 상태")
    assert moment(NOON, data_needs(q), "ko", BUCKET_S, DEFAULT_EPOCH_S) == NOON - 200


def test_last_night_is_22_h_the_day_before_in_the_askers_time() -> None:
    assert _at("어제 밤 장애") == (13.0, 19)  # 22:00 KST = 13:00 UTC, the day before
    assert _at("what happened last night?") == (22.0, 19)


def test_no_moment_before_the_first_bucket() -> None:
    q = parse("2 hours ago web-01 status")
    assert moment(5, data_needs(q), "en", BUCKET_S, DEFAULT_EPOCH_S) == 0


def test_trend_intents_read_history_and_others_do_not() -> None:
    assert data_needs(parse("db-03 상태")).history_s == 1800
    assert data_needs(parse("지난 1시간 db-03 메모리 추세")).history_s == 3600
    assert data_needs(parse("top 3 servers by cpu")).history_s == 0
    assert data_needs(parse("오늘 장애 보고서")).report_day
