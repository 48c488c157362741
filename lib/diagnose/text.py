"""The evidence of a diagnosis in words, in English and in Korean."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from lib.diagnose.routine import ROUTINES
from lib.metric_labels import metric_label
from lib.sim import FAILURE_TYPES

if TYPE_CHECKING:
    from lib.diagnose.model import Diagnosis

TYPE_KO: Final = MappingProxyType(
    {
        "cpu_overload": "CPU 과부하",
        "memory_leak": "메모리 누수",
        "disk_full": "디스크 가득 참",
        "network_failure": "네트워크 장애",
        "application_crash": "애플리케이션 중단",
        "database_timeout": "데이터베이스 타임아웃",
        "api_failure": "API 장애",
        "config_error": "설정 오류",
        "load_balancer_down": "로드밸런서 중단",
        "cdn_failure": "CDN 장애",
        "dns_resolution_failure": "DNS 해석 실패",
        "security_breach": "보안 침해",
        "unknown": "알 수 없는 이상",
    }
)
"""Korean name of every type (and of ``unknown``)."""
assert set(TYPE_KO) >= set(FAILURE_TYPES)

_SHOWN: Final = 3
ROUTINE_TEXT: Final = MappingProxyType(
    {
        "traffic": ("traffic moved and the load followed it", "트래픽 변화에 부하가 따라 움직임"),
        "busy": ("busy CPU with nothing suffering", "CPU 사용 증가, 서비스 영향 없음"),
        "transient": ("a short blip, already over", "짧은 순간 변동, 이미 회복됨"),
    }
)
"""What each routine pattern (``lib.diagnose.routine``) means, in English and in Korean."""
assert set(ROUTINE_TEXT) == set(ROUTINES)


def summaries(d: Diagnosis, ids: tuple[str, ...]) -> tuple[str, str]:
    """One sentence each: what, where, how sure, which metrics moved first, which logs."""
    root = ids[d.root]
    moves = [m for m in d.moved if m.onset_bucket >= 0][:_SHOWN] or list(d.moved[:_SHOWN])
    en_moves = ", ".join(
        f"{ids[m.server]} {m.metric} {'up' if m.direction > 0 else 'down'} "
        f"{m.baseline:.1f}→{m.observed:.1f}"
        for m in moves
    )
    ko_moves = ", ".join(
        f"{ids[m.server]} {metric_label(m.metric)[1]} {'상승' if m.direction > 0 else '하락'} "
        f"{m.baseline:.1f}→{m.observed:.1f}"
        for m in moves
    )
    others = len(d.affected) - 1
    if d.routine is not None:
        routine_en, routine_ko = ROUTINE_TEXT[d.routine]
        en = f"routine on {root}, no incident: {routine_en}"
        ko = f"{root}: 정상 작업, 장애 아님: {routine_ko}"
    else:
        en = f"{d.type} on {root} (confidence {d.confidence:.0%})"
        ko = f"{root}: {TYPE_KO[d.type]} (신뢰도 {d.confidence:.0%})"
    if en_moves:
        en += f"; first moves: {en_moves}"
        ko += f"; 먼저 변한 지표: {ko_moves}"
    if others:
        en += f"; {others} more server(s) affected"
        ko += f"; 영향 서버 {others}대 추가"
    if d.log_lines:
        en += f'; log: "{d.log_lines[0].message}"'
        ko += f'; 로그: "{d.log_lines[0].message}"'
    return en + ".", ko + "."
