"""What an incident's timeline says at each step, in English and in Korean.

Every step the engine writes carries a ``Reason``, ``(en, ko)``; the API serves both and the
console shows the reader's. Strategy and type ids stay out of the Korean text.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from lib.diagnose.text import TYPE_KO
from lib.sim import FAILURE_TYPES

if TYPE_CHECKING:
    from lib.diagnose import Diagnosis

Reason = tuple[str, str]
"""A timeline step's reason: ``(english, korean)``."""

STRATEGY_KO: Final = MappingProxyType(
    {
        "restart_service": "서비스 재시작",
        "scale_up": "자원 증설",
        "cleanup_logs": "로그 정리",
        "switch_backup_network": "백업 네트워크 전환",
        "failover": "복제본 페일오버",
        "circuit_breaker": "서킷 브레이커",
        "rollback_config": "설정 롤백",
        "reroute_traffic": "트래픽 우회",
        "purge_cdn": "CDN 퍼지",
        "flush_dns": "DNS 캐시 비우기",
        "isolate_and_rotate_credentials": "격리와 자격 증명 교체",
        "none": "조치 없음",
    }
)
"""Korean name of every recovery strategy of the catalogue."""
assert {t.recovery.name for t in FAILURE_TYPES.values()} <= set(STRATEGY_KO)

_DESCRIPTION: Final = MappingProxyType(
    {
        t.recovery.name: (t.recovery.description_en, t.recovery.description_ko)
        for t in FAILURE_TYPES.values()
    }
)


def reason_of(value: object) -> Reason:
    """A stored reason as a ``Reason``: older states kept English text only."""
    if isinstance(value, str):
        return value, value
    en, ko = value  # type: ignore[misc]
    return str(en), str(ko)


def started(server: str) -> Reason:
    return f"anomaly began on {server}", f"{server}에서 이상 시작"


def detected(d: Diagnosis) -> Reason:
    return d.summary_en, d.summary_ko


def joined(server: str, d: Diagnosis) -> Reason:
    return f"{server}: {d.summary_en}", f"{server}: {d.summary_ko}"


def revised(before: str, d: Diagnosis) -> Reason:
    was = TYPE_KO.get(before, before)
    return (
        f"diagnosis revised (was {before}): {d.summary_en}",
        f"진단 수정(이전: {was}): {d.summary_ko}",
    )


def reopened(server: str, times: int) -> Reason:
    """``times``: how often it has come back, this time included."""
    return (
        f"the same failure came back on {server} (recurrence {times})",
        f"{server}에 같은 장애가 재발 ({times}회째)",
    )


def injected(kind: str) -> Reason:
    return f"{kind} injected", f"{TYPE_KO.get(kind, kind)} 주입됨"


def recovery_started(strategy: str, again: bool) -> Reason:
    en, ko = _DESCRIPTION[strategy]
    name = STRATEGY_KO[strategy]
    return (
        f"{strategy}{' (again)' if again else ''}: {en}",
        f"{name}{' (재시도)' if again else ''}: {ko}",
    )


def recovery_succeeded(strategy: str) -> Reason:
    return f"{strategy} succeeded", f"{STRATEGY_KO[strategy]} 성공"


def recovery_failed(strategy: str) -> Reason:
    return f"{strategy} did not help", f"{STRATEGY_KO[strategy]} 효과 없음"


def escalated(tried: bool) -> Reason:
    if tried:
        return "no automatic fix worked; operator needed", "자동 복구가 듣지 않음: 운영자 필요"
    return "operator needed", "운영자 필요"


def restored(strategy: str | None) -> Reason:
    name = strategy or "recovery"
    return f"{name} restored service", f"{STRATEGY_KO.get(name, '복구 조치')}로 서비스 회복"


def resolved_by(who: str) -> Reason:
    return f"resolved by {who}", f"{who} 님이 해결"


SELF_HEALED: Final[Reason] = (
    "metrics back to normal by themselves",
    "지표가 스스로 정상으로 돌아옴",
)
CLEARED_UNFIXED: Final[Reason] = (
    "alerts cleared by themselves, but no fix worked: if the failure comes back, this incident"
    " reopens",
    "경보는 스스로 해제됐지만 복구 조치는 듣지 않음: 같은 장애가 다시 나타나면 이 인시던트가"
    " 다시 열림",
)
STATE_LOST: Final[Reason] = (
    "engine state lost (the KV came back empty); closed, detection starts afresh",
    "엔진 상태 유실 (KV가 비어서 돌아옴): 종료하고 탐지를 새로 시작",
)
