"""What a question asks: its intent and entities, in Korean or English, typos tolerated.

``parse(question, previous)`` is pure and fleet-agnostic: server references come out as ids
(``db 3번`` → ``db-03``, ``the second web server`` → ``web-02``) that the answer checks
against the fleet. A question naming no intent of its own continues the previous one
(``그럼 메모리는?`` after ``db-03 상태 알려줘``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

from lib.ai.lexicon import (
    AGGREGATES,
    FOLLOW_UP_WORDS,
    INTENT_WORDS,
    LOWEST_WORDS,
    METRIC_WORDS,
    REGION_WORDS,
    ROLE_PREFIX,
    ROLE_WORDS,
    STATUS_WORDS,
    blank,
    find_all,
    has_any,
    is_korean,
    normalise,
)

Lang = Literal["ko", "en"]
INTENTS: Final = (
    "summary", "top_n", "filter", "count", "server", "aggregate", "root_cause", "incidents",
    "report", "forecast", "correlation", "compare", "recommend", "help", "refuse",
    "out_of_scope",
)  # fmt: skip
# First match wins: the more specific asks before the general ones.
INTENT_ORDER: Final = ("refuse", "report", "root_cause", "forecast", "correlation", "compare",
                       "count", "recommend")  # fmt: skip
DEFAULT_TOP_N = 3
MAX_TOP_N = 20


@dataclass(frozen=True)
class Condition:
    """``metric op value`` (``op``: ``>`` or ``<``)."""

    metric: str
    op: Literal[">", "<"]
    value: float


@dataclass(frozen=True)
class TimeRef:
    """A relative time in the question: a look-back window, or a moment before ``at``."""

    window_s: int | None = None
    ago_s: int | None = None
    last_night: bool = False


@dataclass(frozen=True)
class Query:
    intent: str
    lang: Lang
    metrics: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    status: str | None = None
    condition: Condition | None = None
    n: int | None = None
    lowest: bool = False
    aggregate: str = "mean"
    time: TimeRef = field(default_factory=TimeRef)
    follow_up: bool = False

    @property
    def metric(self) -> str | None:
        return self.metrics[0] if self.metrics else None

    def describe(self) -> str:
        """``top_n(metric=cpu_pct, n=3)``: the parse in one line, for the visible reasoning."""
        parts = []
        for name, value in (
            ("metric", ",".join(self.metrics)),
            ("servers", ",".join(self.servers)),
            ("role", ",".join(self.roles)),
            ("region", ",".join(self.regions)),
            ("status", self.status),
            ("n", self.n),
        ):
            if value:
                parts.append(f"{name}={value}")
        if self.condition is not None:
            c = self.condition
            parts.append(f"where={c.metric}{c.op}{c.value:g}")
        if self.intent == "aggregate":
            parts.append(f"fn={self.aggregate}")
        if self.time.window_s:
            parts.append(f"window={self.time.window_s}s")
        if self.time.ago_s or self.time.last_night:
            parts.append(
                "moment=" + ("last_night" if self.time.last_night else f"-{self.time.ago_s}s")
            )
        return f"{self.intent}({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Query:
        cond = d.get("condition")
        return cls(
            **{
                **d,
                "metrics": tuple(d.get("metrics", ())),
                "servers": tuple(d.get("servers", ())),
                "roles": tuple(d.get("roles", ())),
                "regions": tuple(d.get("regions", ())),
                "condition": Condition(**cond) if cond else None,
                "time": TimeRef(**d.get("time", {})),
            }
        )


_UNIT_S = {"분": 60, "minute": 60, "minutes": 60, "min": 60, "mins": 60, "시간": 3600,
           "hour": 3600, "hours": 3600, "h": 3600, "hr": 3600, "hrs": 3600, "일": 86400,
           "day": 86400, "days": 86400}  # fmt: skip
_UNITS = r"(분|시간|일|minutes?|mins?|hours?|hrs?|h|days?)"
_WINDOW = re.compile(rf"(?:지난|최근|last|past)\s*(\d+)?\s*{_UNITS}(?:\s*(?:동안|간))?")
_AGO = re.compile(rf"(\d+)\s*{_UNITS}\s*(?:전|ago|before)")
_NIGHT = re.compile(r"어제\s*밤|어젯밤|last night|yesterday night")
_PREFIXES = "|".join(ROLE_PREFIX)
# "api 3개" counts servers and "web 2nd" is an ordinal: neither names api-03 or web-02.
_NOT_AN_ID = r"(?!\d)(?!\s*(?:개|대|위|%|명|곳|분|시간|ms|th))"
_SERVER_ID = re.compile(rf"(?<![a-z0-9])({_PREFIXES})\s*[-_ ]?\s*0*(\d{{1,3}}){_NOT_AN_ID}")
_ORDINALS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}  # fmt: skip
_ORDINALS_KO = {"첫": 1, "첫째": 1, "두": 2, "둘째": 2, "세": 3, "셋째": 3, "네": 4, "넷째": 4,
                "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}  # fmt: skip
_ORDINAL_EN = re.compile(r"(?<![a-z])(" + "|".join(_ORDINALS_EN) + r"|\d+(?:st|nd|rd|th))\s+")
_ORDINAL_KO = re.compile(
    r"(" + "|".join(sorted(_ORDINALS_KO, key=len, reverse=True)) + r"|\d+)\s*번\s*째\s*"
)
_NUMBER_BEON = re.compile(r"(\d+)\s*번(?!\s*째)")
_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT = r"\s*(?:%|퍼센트|percent|pct|ms|밀리초|mbps)?"
_ABOVE = r"넘는|넘은|넘게|넘어|이상|초과|over|above|more than|greater than|exceeding|>=?"
_BELOW = r"미만|이하|아래|under|below|less than|<=?"
_COND_AFTER = re.compile(rf"{_NUMBER}{_UNIT}\s*(?:가|이|을|를|보다)?\s*({_ABOVE}|{_BELOW})")
_COND_BEFORE = re.compile(rf"({_ABOVE}|{_BELOW})\s*{_NUMBER}{_UNIT}")
_TOP_N = re.compile(
    r"(?:top|상위|하위)\s*(\d+)|(\d+)\s*(?:[a-z]+\s+)?(?:개|대|곳|servers?|busiest|hosts?)"
)
_WORD_NUMBERS_EN = {"two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
_WORD_N = re.compile(r"(?:top|the)\s+(two|three|four|five|ten)\b")
_KO_COUNT = {"두": 2, "세": 3, "네": 4, "다섯": 5, "열": 10}
_KO_N = re.compile(r"(두|세|네|다섯|열)\s*(?:개|대|곳)")


def _times(text: str) -> tuple[TimeRef, str]:
    window = ago = None
    night = False
    if m := _WINDOW.search(text):
        window = int(m.group(1) or 1) * _UNIT_S[m.group(2)]
        text = text.replace(m.group(0), " ")
    if m := _AGO.search(text):
        ago = int(m.group(1)) * _UNIT_S[m.group(2)]
        text = text.replace(m.group(0), " ")
    if m := _NIGHT.search(text):
        night = True
        text = text.replace(m.group(0), " ")
    return TimeRef(window, ago, night), text


def _server_ids(text: str) -> tuple[list[tuple[int, str]], str]:
    found: list[tuple[int, str]] = []

    def take(m: re.Match[str]) -> str:
        found.append((m.start(), f"{m.group(1)}-{int(m.group(2)):02d}"))
        return " " * len(m.group(0))

    text = _SERVER_ID.sub(take, text)
    # Role words followed by "N번" (디비 3번) or preceded/followed by an ordinal.
    prefix_of = {role: prefix for prefix, role in ROLE_PREFIX.items()}
    for role, words in ROLE_WORDS.items():
        for word in sorted(words, key=len, reverse=True):
            w = re.escape(word).replace(r"\ ", r"\s*")
            patterns = (
                (rf"{w}\s*(?:서버\s*)?(\d+)\s*번(?!\s*째)", lambda m: int(m.group(1))),
                (rf"{_ORDINAL_KO.pattern}{w}", lambda m: _ordinal_ko(m.group(1))),
                (rf"{w}\s*(?:서버\s*)?{_ORDINAL_KO.pattern}", lambda m: _ordinal_ko(m.group(1))),
                (rf"(?<![a-z]){_ORDINAL_EN.pattern}{w}", lambda m: _ordinal_en(m.group(1))),
            )
            for pattern, number in patterns:
                for m in list(re.finditer(pattern, text)):
                    found.append((m.start(), f"{prefix_of[role]}-{number(m):02d}"))
                text = re.sub(pattern, lambda m: " " * len(m.group(0)), text)
    return sorted(found), text


def _ordinal_ko(word: str) -> int:
    return int(word) if word.isdigit() else _ORDINALS_KO[word]


def _ordinal_en(word: str) -> int:
    return _ORDINALS_EN.get(word) or int(re.sub(r"\D", "", word))


def _condition(text: str, metrics: list[str]) -> tuple[Condition | None, str]:
    m = _COND_AFTER.search(text)
    if m:
        value, word = float(m.group(1)), m.group(2)
    elif m := _COND_BEFORE.search(text):
        word, value = m.group(1), float(m.group(2))
    else:
        return None, text
    op: Literal[">", "<"] = "<" if re.fullmatch(_BELOW, word) else ">"
    unit_metric = "error_pct" if "error_pct" in metrics else None
    metric = metrics[0] if metrics else unit_metric
    if metric is None:
        return None, text
    return Condition(metric, op, value), text.replace(m.group(0), " ")


def _top_n(text: str) -> int | None:
    if m := _TOP_N.search(text):
        return min(MAX_TOP_N, max(1, int(m.group(1) or m.group(2))))
    if m := _WORD_N.search(text):
        return _WORD_NUMBERS_EN[m.group(1)]
    if m := _KO_N.search(text):
        return _KO_COUNT[m.group(1)]
    return None


def _intent(text: str, q: Query) -> tuple[str, bool]:
    """The intent and whether the question named it (else it may continue the last one)."""
    for name in INTENT_ORDER:
        if has_any(text, INTENT_WORDS[name]):
            return name, True
    if q.condition is not None:
        return "filter", True
    if has_any(text, INTENT_WORDS["top_n"]):
        return "top_n", True
    if has_any(text, INTENT_WORDS["aggregate"]):
        return "aggregate", True
    if has_any(text, INTENT_WORDS["incidents"]):
        return "incidents", True
    if q.status is not None and not q.servers:
        return "filter", True
    if len(q.servers) >= 2:
        return "compare", True
    if q.servers:
        return "server", True
    if len(q.regions) >= 2:
        return "compare", True
    if has_any(text, INTENT_WORDS["help"]):
        return "help", True
    if has_any(text, INTENT_WORDS["summary"]):
        return "summary", True
    if q.metrics and (q.roles or q.regions):
        return "aggregate", False
    if q.metrics:
        return "top_n", False
    return "out_of_scope", False


def parse(question: str, previous: Query | None = None, lang: Lang | None = None) -> Query:
    """The intent and entities of ``question``; ``previous`` is the conversation's last query."""
    language: Lang = lang or ("ko" if is_korean(question) else "en")
    # Times first, on the words as typed: 어제 is not a typo of 언제.
    time, untimed = _times(question.lower())
    text = normalise(untimed)
    refs, rest = _server_ids(text)
    servers = tuple(dict.fromkeys(s for _, s in refs))
    roles = tuple(dict.fromkeys(r for _, r in find_all(rest, ROLE_WORDS)))
    regions = tuple(dict.fromkeys(r for _, r in find_all(rest, REGION_WORDS)))
    unscoped = rest
    rest = blank(blank(rest, ROLE_WORDS), REGION_WORDS)
    metrics = tuple(dict.fromkeys(m for _, m in find_all(rest, METRIC_WORDS)))
    condition, rest = _condition(rest, list(metrics))
    statuses = find_all(rest, STATUS_WORDS)
    aggregate = next((k for _, k in find_all(rest, AGGREGATES)), "mean")
    q = Query(
        intent="out_of_scope",
        lang=language,
        metrics=metrics,
        servers=servers,
        roles=roles,
        regions=regions,
        status=statuses[0][1] if statuses else None,
        condition=condition,
        n=_top_n(unscoped),
        lowest=has_any(rest, LOWEST_WORDS),
        aggregate=aggregate,
        time=time,
    )
    # Asking for a secret is refused whatever else it names ("api key" names a role).
    intent, named = ("refuse", True) if has_any(text, INTENT_WORDS["refuse"]) else _intent(rest, q)
    q = replace(q, intent=intent)
    if previous is not None and _continues(q, named, text):
        return _continue(previous, q)
    return q


def _continues(q: Query, named: bool, text: str) -> bool:
    """A follow-up: names no intent of its own but some entity, or says it follows up."""
    follow = has_any(text, FOLLOW_UP_WORDS)
    if q.intent in ("refuse", "help"):
        return False
    if not named:
        return bool(q.metrics or q.servers or q.roles or q.regions or follow)
    return follow and q.intent in ("server", "summary") and not q.servers


def _continue(prev: Query, q: Query) -> Query:
    keep_servers = q.servers or (() if q.roles or q.regions else prev.servers)
    intent = prev.intent
    if intent in ("refuse", "help", "out_of_scope"):
        intent = q.intent if q.intent != "out_of_scope" else "summary"
    condition = prev.condition
    if condition is not None and q.metrics:
        condition = replace(condition, metric=q.metrics[0])
    return replace(
        prev,
        intent=intent,
        lang=q.lang,
        metrics=q.metrics or prev.metrics,
        servers=keep_servers,
        roles=q.roles or (() if q.servers else prev.roles),
        regions=q.regions or (() if q.servers else prev.regions),
        status=q.status or prev.status,
        condition=q.condition or condition,
        n=q.n or prev.n,
        time=q.time if (q.time.window_s or q.time.ago_s or q.time.last_night) else prev.time,
        follow_up=True,
    )
