"""The assistant's vocabulary in Korean and English, and typo-tolerant matching against it.

Questions are matched on a normalised text: lower case, Hangul composed (NFC), every word
that is close to a vocabulary word (``memroy``, ``서벼``, ``메머리``) replaced by that word.
Closeness of Korean words is measured on their jamo (``서벼`` = ㅅㅓㅂㅕ against ㅅㅓㅂㅓ),
since one wrong vowel changes a whole syllable. Korean compounds are matched with and
without spaces (``cpu사용률``, ``몇대``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Final

from lib.sim import METRICS, REGIONS, ROLES

# metric -> words that name it, most specific first (the longest match wins).
METRIC_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "cpu_pct": (
        "cpu",
        "processor",
        "busy",
        "busiest",
        "씨피유",
        "시피유",
        "프로세서",
        "바쁜",
        "바빠",
    ),
    "memory_pct": ("memory", "mem", "ram", "메모리", "램"),
    "disk_pct": ("disk", "storage", "디스크", "저장공간", "스토리지"),
    "net_in_mbps": ("inbound", "ingress", "network in", "수신", "인바운드"),
    "net_out_mbps": ("outbound", "egress", "network out", "송신", "아웃바운드"),
    "net_latency_ms": ("network latency", "net latency", "ping", "네트워크 지연", "핑"),
    "packet_loss_pct": ("packet loss", "packets", "패킷 손실", "패킷"),
    "response_ms": (
        "response time",
        "latency",
        "response",
        "slow",
        "응답시간",
        "응답 시간",
        "응답속도",
        "지연시간",
        "레이턴시",
        "응답",
        "느려",
        "느린",
    ),
    "rps": ("rps", "requests", "request rate", "traffic", "throughput", "요청", "트래픽", "처리량"),
    "error_pct": ("error rate", "errors", "error", "에러율", "오류율", "에러", "오류"),
    "load1": ("load average", "load", "로드", "부하"),
    "connections": ("connections", "connection", "연결", "커넥션"),
}

ROLE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "loadbalancer": ("load balancers", "load balancer", "loadbalancer", "lbs", "lb", "로드밸런서",
                     "로드 밸런서"),
    "web": ("web servers", "web server", "webs", "web", "frontend", "웹서버", "웹 서버", "웹"),
    "api": ("api servers", "api server", "apis", "api", "에이피아이"),
    "database": ("databases", "database", "dbs", "db", "데이터베이스", "디비"),
    "cache": ("caches", "cache", "redis", "캐시"),
    "queue": ("queues", "queue", "kafka", "큐", "메시지큐"),
}  # fmt: skip
ROLE_PREFIX: Final = {"lb": "loadbalancer", "web": "web", "api": "api", "db": "database",
                      "cache": "cache", "queue": "queue"}  # fmt: skip

REGION_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "us-east-1": ("us-east-1", "us east", "virginia", "버지니아", "미국 동부", "미동부"),
    "us-west-2": ("us-west-2", "us west", "oregon", "오레곤", "오리건", "미국 서부", "미서부"),
    "eu-west-1": ("eu-west-1", "ireland", "europe", "아일랜드", "유럽"),
    "ap-southeast-1": ("ap-southeast-1", "singapore", "싱가포르", "싱가폴"),
    "ap-northeast-2": ("ap-northeast-2", "seoul", "korea", "서울", "한국"),
}

STATUS_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "healthy": ("healthy", "normal", "정상"),
    "warning": ("warning", "warn", "degraded", "경고", "주의"),
    "critical": ("critical", "위험", "심각", "크리티컬"),
    "offline": ("offline", "down", "오프라인", "다운"),
}

# intent -> words that ask for it. Checked in ``lib.ai.intents.INTENT_ORDER``.
INTENT_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "refuse": ("system prompt", "prompt", "instruction", "api key", "apikey", "secret", "password",
               "credential", "env var", "environment variable", "configuration", "token",
               "ignore previous", "프롬프트", "지시사항", "지침", "비밀번호", "비밀", "토큰",
               "환경변수", "환경 변수", "설정값", "api 키", "키 값"),
    "report": ("report", "postmortem", "post-mortem", "write-up", "보고서", "리포트", "레포트",
               "사후 분석"),
    "root_cause": ("why", "root cause", "cause", "caused", "reason", "원인", "왜", "이유"),
    "forecast": ("forecast", "predict", "run out", "fill up", "full", "exhaust", "when will",
                 "예측", "가득", "고갈", "언제", "부족해", "다 차"),
    "correlation": ("correlation", "correlated", "correlate", "moves with", "move with",
                    "move together", "relationship", "상관관계", "상관", "연관", "같이 움직"),
    "compare": ("compare", "comparison", "versus", "vs", "difference between", "비교", "대비",
                "차이"),
    "recommend": ("what should", "recommend", "suggest", "action", "do now", "fix", "조치",
                  "권장", "추천", "해야", "대응", "어떻게 해"),
    "count": ("how many", "number of", "count", "몇 대", "몇대", "몇 개", "몇개", "몇 곳", "개수",
              "대수"),
    "top_n": ("top", "highest", "most", "busiest", "heaviest", "largest", "biggest", "lowest",
              "least", "smallest", "가장", "제일", "최고", "상위", "높은", "많이", "많은", "낮은",
              "최저", "하위", "적은"),
    "aggregate": ("average", "avg", "mean", "total", "sum", "maximum", "minimum", "평균", "합계",
                  "총합", "최대", "최소"),
    "incidents": ("incidents", "incident", "alerts", "alert", "outage", "on fire", "firing",
                  "장애", "인시던트", "알림", "알람", "경보", "불났", "불 났"),
    "help": ("help", "what can you", "what do you", "who are you", "도움", "도와", "뭘 할 수",
             "무엇을 할 수", "뭐 할 수", "뭐 할수", "사용법", "기능", "할 수 있"),
    "summary": ("overview", "summary", "summarize", "status", "state", "how are", "how's",
                "how is", "health", "going on", "요약", "상태", "현황", "괜찮", "전반",
                "전체"),
}  # fmt: skip

LOWEST_WORDS: Final = ("lowest", "least", "smallest", "fewest", "낮은", "최저", "하위", "적은")
FOLLOW_UP_WORDS: Final = ("what about", "how about", "and ", "그럼", "그러면", "그건", "그리고")
AGGREGATES: Final[dict[str, tuple[str, ...]]] = {
    "max": ("maximum", "max", "peak", "최대", "최고치"),
    "min": ("minimum", "min", "최소", "최저치"),
    "sum": ("total", "sum", "합계", "총합"),
    "mean": ("average", "avg", "mean", "평균"),
}

# Common words that are no typo of a vocabulary word although they look like one.
_KNOWN: Final = ("server", "servers", "서버", "상태", "사용률", "overview", "alerts", "어제",
                 "오늘", "지난", "최근", "대야", "몇대야", "지금", "현재", "today", "yesterday",
                 "tonight", "minutes", "hours", "please", "about")  # fmt: skip
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_WORD = re.compile(r"[a-z]+|[\uac00-\ud7a3]+")
# Korean particles and endings glued to a word: stripped before fuzzy matching.
_PARTICLES: Final = ("으로", "에서", "이랑", "하고", "까지", "부터", "은", "는", "이", "가", "을",
                     "를", "의", "랑", "과", "와", "도", "에", "로", "야", "요", "만")  # fmt: skip

assert set(METRIC_WORDS) == set(METRICS)
assert set(ROLE_WORDS) == set(ROLES)
assert set(REGION_WORDS) == set(REGIONS)


def is_korean(text: str) -> bool:
    return _HANGUL.search(text) is not None


def jamo(word: str) -> str:
    """Hangul syllables decomposed into their letters (other characters as they are)."""
    out = []
    for ch in word:
        code = ord(ch) - 0xAC00
        if 0 <= code <= 0xD7A3 - 0xAC00:
            lead, rest = divmod(code, 588)
            vowel, tail = divmod(rest, 28)
            out.append(
                chr(0x1100 + lead) + chr(0x1161 + vowel) + (chr(0x11A7 + tail) if tail else "")
            )
        else:
            out.append(ch)
    return "".join(out)


@cache
def _vocabulary() -> tuple[dict[str, str], dict[str, str]]:
    """Single vocabulary words (English, Korean) keyed by how they are compared."""
    tables: Iterable[dict[str, tuple[str, ...]]] = (
        METRIC_WORDS, ROLE_WORDS, REGION_WORDS, STATUS_WORDS, INTENT_WORDS, AGGREGATES,
    )  # fmt: skip
    english: dict[str, str] = {}
    korean: dict[str, str] = {}
    for table in tables:
        for words in table.values():
            for phrase in words:
                for word in _WORD.findall(phrase):
                    if is_korean(word):
                        korean[jamo(word)] = word
                    elif len(word) >= 4:
                        english[word] = word
    for word in _KNOWN:
        (korean if is_korean(word) else english)[jamo(word)] = word
    return english, korean


@cache
def _common_korean() -> dict[str, str]:
    return {jamo(w): w for w in _KNOWN if is_korean(w)}


def _strip_particle(word: str) -> tuple[str, str]:
    for particle in _PARTICLES:
        if len(word) > len(particle) + 1 and word.endswith(particle):
            return word[: -len(particle)], particle
    return word, ""


@cache
def _correct(word: str) -> str:
    english, korean = _vocabulary()
    if not is_korean(word):
        if len(word) < 5 or word in english:
            return word
        close = difflib.get_close_matches(word, english, n=1, cutoff=0.8)
        return close[0] if close and close[0][0] == word[0] else word
    stem, particle = _strip_particle(word)
    for candidate in (word, stem):
        if jamo(candidate) in korean:
            return word
    if len(stem) < 2:
        return word
    # Common words first: 서벼 is as near 서부 (미국 서부) as 서버, and means 서버.
    for table in (_common_korean(), korean):
        close = difflib.get_close_matches(jamo(stem), table, n=1, cutoff=0.75)
        # A typo keeps the first letter: 서벼 is 서버, but 대야 is no 해야.
        if close and close[0][0] == jamo(stem)[0]:
            return korean[close[0]] + particle
    return word


def normalise(text: str) -> str:
    """Lower case, NFC, typos near a vocabulary word corrected."""
    text = unicodedata.normalize("NFC", text).lower()
    return _WORD.sub(lambda m: _correct(m.group(0)), text)


def _pattern(phrase: str) -> str:
    body = re.escape(phrase).replace(r"\ ", r"\s*")
    if phrase[:1].isascii() and phrase[:1].isalnum():
        body = r"(?<![a-z0-9])" + body
    if phrase[-1:].isascii() and phrase[-1:].isalnum():
        body += r"(?![a-z])"
    return body


@cache
def phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One regex finding any of ``phrases``, longest first; spaces inside them are optional,
    English words must stand alone (``api`` is not in ``rapid``)."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("|".join(_pattern(p) for p in ordered))


def has_any(text: str, phrases: tuple[str, ...]) -> bool:
    return phrase_regex(phrases).search(text) is not None


def find_all(text: str, table: dict[str, tuple[str, ...]]) -> list[tuple[int, str]]:
    """(position, key) of every key of ``table`` named in ``text``, in order of appearance."""
    found = []
    for key, words in table.items():
        found += [(m.start(), key) for m in phrase_regex(words).finditer(text)]
    return sorted(found)


def blank(text: str, table: dict[str, tuple[str, ...]]) -> str:
    """``text`` with every phrase of ``table`` replaced by spaces (positions kept)."""
    for words in table.values():
        text = phrase_regex(words).sub(lambda m: " " * len(m.group(0)), text)
    return text
