from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
BASE = 1392388200.0  # 2014-02-14 14:30:00 UTC


def test_three_timestamp_forms_and_blank_lines() -> None:
    series = parse_series(NAB_LIKE)
    np.testing.assert_array_equal(series.timestamps, [BASE, BASE + 300, BASE + 600, BASE + 900])
    np.testing.assert_array_equal(series.clock, series.timestamps)
    np.testing.assert_array_equal(series.values, [0.132, 0.134, 1.5, 2.0])
    assert series.stamps[1] == "2014-02-14T14:35:00Z"
    assert series.lines == [2, 3, 5, 6]
    assert series.notices == []


def test_output_echoes_each_row_with_its_score() -> None:
    series = parse_series(NAB_LIKE)
    lines = list(format_rows(series, np.array([0.0, 0.25, 0.5, 1.0])))
    assert lines[0] == HEADER_OUT
    assert lines[1] == "2014-02-14 14:30:00,0.132,0.0"
    assert lines[4] == "1392389100,2,1.0"


def test_quoted_fields_are_read_and_echoed_quoted_only_when_needed() -> None:
    series = parse_series(["timestamp,value", '"2014-02-14 14:30:00","1,5"', '"5","2"'])
    assert series.stamps == ["2014-02-14 14:30:00", "5"]
    assert np.isnan(series.values[0])
    assert series.values[1] == 2.0
    lines = list(format_rows(series, np.zeros(2)))
    assert lines[1] == '2014-02-14 14:30:00,"1,5",0.0'


def test_a_header_alone_is_an_empty_series() -> None:
    assert parse_series(["timestamp,value"]).values.shape == (0,)


@pytest.mark.parametrize(
    "header", ["\ufefftimestamp,value", "Timestamp, Value", "TIMESTAMP,VALUE\r\n"]
)
def test_a_header_as_exports_write_it_is_read(header: str) -> None:
    assert parse_series([header, "1,2"]).values.tolist() == [2.0]


@pytest.mark.parametrize("lines", [[], ["time,value\n"], ["1,2", "3,4"]])
def test_a_file_without_the_header_is_refused_at_line_1(lines: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_series(lines)
    assert str(caught.value).startswith("line 1: expected the header")
    assert caught.value.details["line"] == 1


def kinds(lines: list[str]) -> list[tuple[int, str]]:
    return [(n.line, n.kind) for n in parse_series(["timestamp,value", *lines]).notices]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["2014-02-14 14:30:00"], [(2, "fields"), (2, "value")]),
        (["1,2", "2,3,4"], [(3, "fields")]),
        (["yesterday,1"], [(2, "timestamp")]),
        (["nan,1"], [(2, "timestamp")]),
        (["1,x"], [(2, "value")]),
        (["1,"], [(2, "value")]),
        (["1,inf"], [(2, "value")]),
        (["5,1", "", "4,2"], [(4, "backwards")]),
        (["5,1", "5,2"], [(3, "repeat")]),
        (["0,1", "60,2", "120,3", "3000,4"], [(5, "gap")]),
        (["0,1", "60,1", "120,1"], [(2, "constant")]),
    ],
)
def test_untidy_rows_are_kept_and_named_by_line(
    lines: list[str], expected: list[tuple[int, str]]
) -> None:
    assert kinds(lines) == expected
    assert len(parse_series(["timestamp,value", *lines]).stamps) == sum(1 for x in lines if x)


def test_a_daylight_saving_step_back_scores_at_the_latest_time_seen() -> None:
    # Local time, 2014-11-02 in New York: 01:00-02:00 happens twice.
    stamps = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    series = parse_series(
        ["timestamp,value", *(f"2014-11-02 {s}:00,{i}" for i, s in enumerate(stamps))]
    )
    half_hour = 1800.0
    t0 = series.timestamps[0]
    steps = [0, 1, 2, 2, 2, 3]
    np.testing.assert_array_equal(series.clock, t0 + half_hour * np.array(steps))
    assert [(n.line, n.kind) for n in series.notices] == [(5, "backwards"), (6, "repeat")]
    assert "1800 s earlier" in series.notices[0].message


def test_rows_without_a_value_or_a_time_are_not_scorable() -> None:
    series = parse_series(["timestamp,value", "x,1", "1,", "2,3", "1,4"])
    assert series.scorable.tolist() == [False, False, True, True]
    np.testing.assert_array_equal(series.clock[1:], [1.0, 2.0, 2.0])


@given(st.lists(st.text(alphabet='0123456789-:., TZx"', max_size=20), max_size=30))
def test_any_rows_parse_to_one_row_each(rows: list[str]) -> None:
    series = parse_series(["timestamp,value", *rows])
    n = sum(1 for r in rows if r.strip())
    assert len(series.stamps) == len(series.values) == len(series.clock) == n
    clock = series.clock[np.isfinite(series.clock)]
    assert (np.diff(clock) >= 0).all()
    assert len(list(format_rows(series, np.zeros(n)))) == n + 1
