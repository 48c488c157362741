"""The local answer, step by step: parse, decide what data it needs, compute, write.

Pure: the shell reads the fleet for ``data_needs(query)`` and hands it to ``local_answer``.
``step`` gives each visible reasoning step its label in the answer's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.ai.data import FleetData, Lang, Reply
from lib.ai.intents import Query
from lib.ai.replies import REPLIES

# Look-back for intents that read a trend, unless the question names one.
HISTORY_S = {"server": 1800, "forecast": 3600, "correlation": 1800, "recommend": 3600}
MAX_HISTORY_S = 6 * 3600
DAY_S = 86_400
NIGHT_HOUR = 22
LOCAL_OFFSET_S = {"ko": 9 * 3600, "en": 0}
"""Korean questions mean Korean time (KST) by 어제 밤; English ones UTC."""
LABELS: dict[str, tuple[str, str]] = {
    "intent": ("의도 분석", "Understanding the question"),
    "data": ("데이터 조회", "Reading the data"),
    "analysis": ("분석", "Analysis"),
    "model": ("문장 다듬기", "Phrasing"),
    "fallback": ("로컬 답변으로 전환", "Falling back to the local answer"),
}


@dataclass(frozen=True)
class DataNeeds:
    """What the shell must read: the moment's offset and the history before it."""

    history_s: int
    shift_s: int
    last_night: bool
    report_day: bool


def data_needs(q: Query) -> DataNeeds:
    base = HISTORY_S.get(q.intent, 0)
    history = min(MAX_HISTORY_S, q.time.window_s or base) if base else 0
    return DataNeeds(
        history_s=history,
        shift_s=q.time.ago_s or 0,
        last_night=q.time.last_night,
        report_day=q.intent == "report",
    )


def moment(bucket: int, needs: DataNeeds, lang: Lang, bucket_seconds: int, epoch_s: int) -> int:
    """The bucket a question is about: ``bucket`` moved back by its relative time."""
    if needs.shift_s:
        bucket -= needs.shift_s // bucket_seconds
    if needs.last_night:
        offset = LOCAL_OFFSET_S[lang]
        local = epoch_s + bucket * bucket_seconds + offset
        night = (local // DAY_S - 1) * DAY_S + NIGHT_HOUR * 3600 - offset
        bucket = (night - epoch_s) // bucket_seconds
    return max(0, bucket)


def local_answer(q: Query, data: FleetData) -> Reply:
    return REPLIES[q.intent](q, data)


def step(name: str, lang: Lang, detail: str) -> dict[str, str]:
    """A ``thinking`` event's data."""
    ko, en = LABELS[name]
    return {"step": name, "label": ko if lang == "ko" else en, "detail": detail}
