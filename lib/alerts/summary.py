"""Human summaries of an alert group, in English and in Korean (operators are mostly Korean).

``"db-01 response time (critical) affecting api-02, web-03"`` and
``"db-01 응답 지연이 api-02, web-03에 영향 (심각)"``. Korean particles follow the last
syllable (응답 지연*이*, 메모리 사용량*이*, 오류율*이*, 경고*로*, 심각*으로*); after a word
that is not Hangul the neutral ``이(가)`` form is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from lib.alerts.levels import Level
from lib.metric_labels import metric_label

MAX_LISTED = 5
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # index of the final consonant ㄹ, which takes 로 like a vowel

Reason = Literal["opened", "escalated", "resolved"]


def _final_consonant(word: str) -> int | None:
    """Index of the last syllable's final consonant (0: none); None when it is not Hangul."""
    if not word or not _HANGUL_FIRST <= ord(word[-1]) <= _HANGUL_LAST:
        return None
    return (ord(word[-1]) - _HANGUL_FIRST) % 28


def subject_particle(word: str) -> str:
    """이 after a final consonant, 가 after a vowel, 이(가) when it cannot tell."""
    final = _final_consonant(word)
    if final is None:
        return "이(가)"
    return "이" if final else "가"


def direction_particle(word: str) -> str:
    """으로 after a final consonant other than ㄹ, 로 otherwise, (으)로 when it cannot tell."""
    final = _final_consonant(word)
    if final is None:
        return "(으)로"
    return "으로" if final and final != _RIEUL else "로"


def _listed(ids: Sequence[str], more_en: str, more_ko: str) -> tuple[str, str]:
    shown = ", ".join(ids[:MAX_LISTED])
    rest = len(ids) - MAX_LISTED
    if rest <= 0:
        return shown, shown
    return f"{shown} {more_en.format(rest)}", f"{shown} {more_ko.format(rest)}"


def group_summary(
    root_id: str,
    root_metrics: Sequence[str],
    affected_ids: Sequence[str],
    level: Level,
    reason: Reason,
) -> tuple[str, str]:
    """(English, Korean) one-line summary of a group.

    ``root_metrics`` are the root server's alerting metrics, earliest first (at least one);
    ``affected_ids`` the other servers of the group; ``level`` the group's highest level.
    """
    metric_en, metric_ko = metric_label(root_metrics[0])
    extra = len(root_metrics) - 1
    if extra:
        metric_en += f" and {extra} more metric{'s' if extra > 1 else ''}"
        metric_ko += f" 외 {extra}건"
    head_en, head_ko = f"{root_id} {metric_en}", f"{root_id} {metric_ko}"
    if affected_ids:
        others_en, others_ko = _listed(affected_ids, "and {} more", "외 {}대")
        body_en = f"{head_en} ({level.label}) affecting {others_en}"
        body_ko = f"{head_ko}{subject_particle(metric_ko)} {others_ko}에 영향 ({level.label_ko})"
    else:
        body_en = f"{head_en} ({level.label})"
        body_ko = f"{head_ko} 이상 ({level.label_ko})"
    if reason == "escalated":
        ko_level = level.label_ko
        return (
            f"Escalated to {level.label}: {body_en}",
            f"{ko_level}{direction_particle(ko_level)} 격상: {body_ko}",
        )
    if reason == "resolved":
        return f"Resolved: {body_en}", f"해결됨: {body_ko}"
    return body_en, body_ko
