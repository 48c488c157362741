"""``timestamp,value`` text in, ``timestamp,value,anomaly_score`` text out, for the CLI.

Timestamps may be unix seconds (``1392388200``), NAB's ``2014-02-14 14:30:00`` or any ISO 8601
form Python reads (``2014-02-14T14:30:00Z``, ``…+09:00``, fractions of a second). Times without
a zone are UTC. Bad input raises ``ValidationError`` naming the line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError

__all__ = ["HEADER_IN", "HEADER_OUT", "Series", "format_rows", "parse_series"]

HEADER_IN = "timestamp,value"
HEADER_OUT = "timestamp,value,anomaly_score"


@dataclass(frozen=True)
class Series:
    """A parsed file: the text of each row (echoed back) and its numbers."""

    stamps: list[str]
    values_text: list[str]
    timestamps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]


def _bad(line: int, message: str) -> ValidationError:
    return ValidationError(f"line {line}: {message}", line=line)


def _seconds(text: str, line: int) -> float:
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _bad(
                line, f"timestamp {text!r} is neither unix seconds nor an ISO 8601 date"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(seconds):
        raise _bad(line, f"timestamp {text!r} is not a finite number")
    return seconds


def parse_series(lines: Iterable[str]) -> Series:
    """Parse a ``timestamp,value`` file: a header line, then one row per line."""
    rows = iter(lines)
    header = next(rows, None)
    if header is None or header.strip().lstrip("\ufeff").replace(" ", "") != HEADER_IN:
        got = "nothing" if header is None else repr(header.strip())
        raise _bad(1, f"expected the header {HEADER_IN!r}, got {got}")
    stamps: list[str] = []
    values_text: list[str] = []
    seconds: list[float] = []
    values: list[float] = []
    for line, raw in enumerate(rows, start=2):
        text = raw.strip()
        if not text:
            continue
        fields = [f.strip() for f in text.split(",")]
        if len(fields) != 2:
            raise _bad(line, f"expected 2 fields (timestamp,value), got {len(fields)}")
        stamp, value_text = fields
        t = _seconds(stamp, line)
        if seconds and t < seconds[-1]:
            raise _bad(line, f"timestamp {stamp!r} is earlier than the row before")
        try:
            value = float(value_text)
        except ValueError:
            raise _bad(line, f"value {value_text!r} is not a number") from None
        if not math.isfinite(value):
            raise _bad(line, f"value {value_text!r} is not a finite number")
        stamps.append(stamp)
        values_text.append(value_text)
        seconds.append(t)
        values.append(value)
    return Series(stamps, values_text, np.array(seconds), np.array(values))


def format_rows(series: Series, scores: npt.NDArray[np.float64]) -> Iterator[str]:
    """Output lines, header first; each input row echoed with its score."""
    yield HEADER_OUT
    for stamp, value, score in zip(series.stamps, series.values_text, scores.tolist(), strict=True):
        yield f"{stamp},{value},{score!r}"
