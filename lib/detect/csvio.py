"""``timestamp,value`` text in, ``timestamp,value,anomaly_score`` text out, for the CLI.

Timestamps may be unix seconds (``1392388200``), NAB's ``2014-02-14 14:30:00`` or any ISO 8601
form Python reads (``2014-02-14T14:30:00Z``, ``…+09:00``, fractions of a second). Times without
a zone are UTC.

Real exports are untidy, and every row of them is still scored: what cannot be read or is out of
place becomes a ``Notice`` naming its line, never an error. A row whose timestamp or value cannot
be read (empty, not a number, not finite, a missing field) is kept and echoed but not fed to the
detector. A clock that steps backwards (a daylight-saving change, rows merged out of order) or
repeats a time does not reorder anything: rows are scored in file order, each at the latest time
seen so far (``Series.clock``). Only a file that is not ``timestamp,value`` text at all (its
header, read whatever its capitals, spaces or byte-order mark) raises ``ValidationError``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError

__all__ = ["HEADER_IN", "HEADER_OUT", "Notice", "Series", "format_rows", "parse_series"]

HEADER_IN = "timestamp,value"
HEADER_OUT = "timestamp,value,anomaly_score"
GAP_FACTOR = 10.0
"""A step this many times the median step is reported as a gap."""


@dataclass(frozen=True)
class Notice:
    """Something about one input line worth telling the user; ``kind`` groups alike ones."""

    line: int
    kind: str
    message: str


@dataclass(frozen=True)
class Series:
    """A parsed file, one entry per data row, in file order.

    ``timestamps`` and ``values`` are NaN where unreadable; ``clock`` is the time each row is
    scored at: the latest readable timestamp up to that row (NaN before the first).
    """

    stamps: list[str]
    values_text: list[str]
    lines: list[int]
    timestamps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    clock: npt.NDArray[np.float64]
    notices: list[Notice]

    @property
    def scorable(self) -> npt.NDArray[np.bool_]:
        """Rows fed to the detector: a readable value at a known time."""
        return np.isfinite(self.values) & np.isfinite(self.clock)


def _bad(line: int, message: str) -> ValidationError:
    return ValidationError(f"line {line}: {message}", line=line)


def _seconds(text: str) -> float:
    """Unix seconds of a timestamp, NaN when it is not one."""
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return math.nan
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return seconds if math.isfinite(seconds) else math.nan


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _fields(text: str) -> list[str]:
    return [f.strip() for f in next(csv.reader([text]), [])]


def parse_series(lines: Iterable[str]) -> Series:
    """Parse a ``timestamp,value`` file: a header line, then one row per non-blank line."""
    rows = iter(lines)
    header = next(rows, None)
    # Exports differ in a byte-order mark, spaces and capitals (``Timestamp, Value``).
    if header is None or header.strip().lstrip("\ufeff").replace(" ", "").lower() != HEADER_IN:
        got = "nothing" if header is None else repr(header.strip())
        raise _bad(1, f"expected the header {HEADER_IN!r}, got {got}")
    stamps: list[str] = []
    values_text: list[str] = []
    numbers: list[int] = []
    seconds: list[float] = []
    values: list[float] = []
    notices: list[Notice] = []
    for line, raw in enumerate(rows, start=2):
        text = raw.strip()
        if not text:
            continue
        fields = _fields(text)
        if len(fields) != 2:
            notices.append(
                Notice(line, "fields", f"expected 2 fields (timestamp,value), got {len(fields)}")
            )
            fields = [*fields, "", ""][:2]
        stamp, value_text = fields
        t, value = _seconds(stamp), _number(value_text)
        if math.isnan(t):
            notices.append(
                Notice(line, "timestamp", f"timestamp {stamp!r} is not a time; scored 0")
            )
        if math.isnan(value):
            what = "is empty" if not value_text else f"{value_text!r} is not a finite number"
            notices.append(Notice(line, "value", f"value {what}; scored 0, not learned from"))
        stamps.append(stamp)
        values_text.append(value_text)
        numbers.append(line)
        seconds.append(t)
        values.append(value)
    timestamps = np.array(seconds)
    clock = np.fmax.accumulate(timestamps) if timestamps.size else timestamps
    values_array = np.array(values)
    notices += _clock_notices(numbers, stamps, timestamps, clock)
    notices += _constant_notice(numbers, values_array)
    notices.sort(key=lambda n: n.line)
    return Series(stamps, values_text, numbers, timestamps, values_array, clock, notices)


def _clock_notices(
    lines: list[int],
    stamps: list[str],
    timestamps: npt.NDArray[np.float64],
    clock: npt.NDArray[np.float64],
) -> list[Notice]:
    """Steps back, repeats and gaps of the clock, each against the latest time before it."""
    if timestamps.size < 2:
        return []
    before = clock[:-1]
    now = timestamps[1:]
    steps = now - before
    known = np.isfinite(steps)
    notices = []
    for i in np.flatnonzero(known & (steps < 0)):
        notices.append(
            Notice(
                lines[i + 1],
                "backwards",
                f"timestamp {stamps[i + 1]!r} is {-steps[i]:g} s earlier than a row before it;"
                " scored in file order",
            )
        )
    for i in np.flatnonzero(known & (steps == 0)):
        notices.append(
            Notice(lines[i + 1], "repeat", f"timestamp {stamps[i + 1]!r} repeats a time before it")
        )
    forward = steps[known & (steps > 0)]
    if forward.size:
        typical = float(np.median(forward))
        for i in np.flatnonzero(known & (steps > GAP_FACTOR * typical)):
            notices.append(
                Notice(
                    lines[i + 1],
                    "gap",
                    f"{steps[i]:g} s since the row before (typically {typical:g} s)",
                )
            )
    return notices


def _constant_notice(lines: list[int], values: npt.NDArray[np.float64]) -> list[Notice]:
    readable = values[np.isfinite(values)]
    if readable.size < 2 or readable.min() != readable.max():
        return []
    return [
        Notice(
            lines[0],
            "constant",
            f"every value is {readable[0]:g}: nothing departs from it",
        )
    ]


def _csv_field(text: str) -> str:
    if not any(c in text for c in ',"\n'):
        return text
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([text])
    return out.getvalue()


def format_rows(series: Series, scores: npt.NDArray[np.float64]) -> Iterator[str]:
    """Output lines, header first; each input row echoed with its score."""
    yield HEADER_OUT
    for stamp, value, score in zip(series.stamps, series.values_text, scores.tolist(), strict=True):
        yield f"{_csv_field(stamp)},{_csv_field(value)},{score!r}"
