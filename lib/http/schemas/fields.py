"""Field types the resource schemas share: two-language text, instants, JSON-safe numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema

from lib.analysis import STATUS_NAMES
from lib.sim import ENVIRONMENTS, FAILURE_TYPES, METRICS, REGIONS, ROLES

# Vocabularies as types: a query outside them is a 422 naming the parameter, and OpenAPI
# lists the allowed values.
MetricName = Literal[METRICS]  # type: ignore[valid-type]
RoleName = Literal[ROLES]  # type: ignore[valid-type]
RegionName = Literal[REGIONS]  # type: ignore[valid-type]
EnvName = Literal[ENVIRONMENTS]  # type: ignore[valid-type]
StatusName = Literal[STATUS_NAMES]  # type: ignore[valid-type]
FailureTypeName = Literal[tuple(FAILURE_TYPES)]  # type: ignore[valid-type]
DiagnosedTypeName = Literal[(*FAILURE_TYPES, "unknown")]  # type: ignore[valid-type]
"""A catalogue type or ``unknown``: what diagnosis may conclude."""
STATUS_KO = {"healthy": "정상", "warning": "경고", "critical": "심각", "offline": "오프라인"}
ServerId = Annotated[str, Field(min_length=1, max_length=32, examples=["web-01"])]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Both forms a time parameter takes, so that clients (and the fuzzer) know a number is one.
INSTANT_FORMS = WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}, mode="validation"
)
Instant = Annotated[
    datetime,
    AfterValidator(_utc),
    INSTANT_FORMS,
    Field(
        description="ISO 8601 (UTC when no offset is given) or Unix seconds.",
        examples=["2026-03-01T09:00:00Z", 1772355600],
    ),
]


def _split_commas(value: object) -> object:
    """``a,b`` and repeated parameters (``?m=a&m=b``) both give ``[a, b]``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


CommaList = BeforeValidator(_split_commas)


class Text(BaseModel):
    """A short human summary in English and Korean."""

    en: str
    ko: str


def finite(value: float, digits: int = 3) -> float | None:
    """``value`` rounded, or ``None`` for NaN and infinities (JSON has neither)."""
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None
