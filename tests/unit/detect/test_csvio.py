from __future__ import annotations

import numpy as np
import pytest

from lib.detect.csvio import HEADER_OUT, format_rows, parse_series
from lib.errors import ValidationError

NAB_LIKE = [
    "timestamp,value\n",
    "2014-02-14 14:30:00,0.132\n",
    "2014-02-14T14:35:00Z,0.134\n",
    "\n",
    "2014-02-14T23:40:00+09:00,1.5\n",
    "1392389100,2\n",
]


def test_three_timestamp_forms_and_blank_lines() -> None:
    series = parse_series(NAB_LIKE)
    base = 1392388200.0  # 2014-02-14 14:30:00 UTC
    np.testing.assert_array_equal(series.timestamps, [base, base + 300, base + 600, base + 900])
    np.testing.assert_array_equal(series.values, [0.132, 0.134, 1.5, 2.0])
    assert series.stamps[1] == "2014-02-14T14:35:00Z"


def test_output_echoes_each_row_with_its_score() -> None:
    series = parse_series(NAB_LIKE)
    lines = list(format_rows(series, np.array([0.0, 0.25, 0.5, 1.0])))
    assert lines[0] == HEADER_OUT
    assert lines[1] == "2014-02-14 14:30:00,0.132,0.0"
    assert lines[4] == "1392389100,2,1.0"


def test_a_header_alone_is_an_empty_series() -> None:
    assert parse_series(["timestamp,value"]).values.shape == (0,)


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ([], 1, "expected the header"),
        (["time,value\n"], 1, "expected the header"),
        (["timestamp,value", "2014-02-14 14:30:00"], 2, "expected 2 fields"),
        (["timestamp,value", "1,2", "2,3,4"], 3, "expected 2 fields"),
        (["timestamp,value", "yesterday,1"], 2, "neither unix seconds nor an ISO 8601"),
        (["timestamp,value", "nan,1"], 2, "not a finite number"),
        (["timestamp,value", "1,x"], 2, "not a number"),
        (["timestamp,value", "1,inf"], 2, "not a finite number"),
        (["timestamp,value", "5,1", "", "4,1"], 4, "earlier than the row before"),
    ],
)
def test_bad_input_names_its_line(lines: list[str], line: int, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_series(lines)
    assert str(caught.value).startswith(f"line {line}: ")
    assert words in str(caught.value)
    assert caught.value.details["line"] == line
