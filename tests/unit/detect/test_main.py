"""The CLI, run as a real subprocess on small files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lib.detect", "score", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def csv_of(values: np.ndarray) -> str:
    """``values`` as a ``timestamp,value`` file, one row every 5 minutes."""
    start = np.datetime64("2014-02-14T14:30:00")
    rows = [
        f"{str(start + np.timedelta64(300 * i, 's')).replace('T', ' ')},{v:.3f}"
        for i, v in enumerate(values)
    ]
    return "timestamp,value\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def csv_text() -> str:
    rng = np.random.default_rng(4)
    values = 40.0 + rng.standard_normal(300)
    values[250] = 95.0
    return csv_of(values)


def test_scores_one_row_per_input_row(tmp_path: Path, csv_text: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(csv_text)
    done = run_cli(str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    inputs = csv_text.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    assert len(lines) == len(inputs)
    for got, given in zip(lines[1:], inputs[1:], strict=True):
        assert got.rsplit(",", 1)[0] == given
    scores = np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[250] >= 0.8
    assert scores[200:250].max() < 0.5


def split(lines: list[str]) -> tuple[list[str], np.ndarray]:
    rows = [line.rsplit(",", 1) for line in lines[1:]]
    return [r[0] for r in rows], np.array([float(r[1]) for r in rows])


def test_a_prefix_scores_the_same_no_look_ahead(csv_text: str) -> None:
    whole = split(run_cli("-", stdin=csv_text).stdout.splitlines())
    prefix = split(
        run_cli("-", stdin="\n".join(csv_text.splitlines()[:120]) + "\n").stdout.splitlines()
    )
    assert prefix[0] == whole[0][:119]
    np.testing.assert_allclose(prefix[1], whole[1][:119], rtol=1e-9, atol=1e-12)


def test_floors_and_direction_are_options(csv_text: str) -> None:
    done = run_cli("-", "--direction", "low", "--crit-above", "90", stdin=csv_text)
    assert done.returncode == 0, done.stderr
    scores = [float(line.rsplit(",", 1)[1]) for line in done.stdout.splitlines()[1:]]
    assert scores[250] >= 0.8


def rows_of(text: str) -> list[str]:
    return [line for line in text.splitlines()[1:] if line.strip()]


def check_every_row_scored(text: str, tmp_path: Path) -> tuple[np.ndarray, str]:
    """Run the CLI on ``text``: exit 0, each input row echoed in order with a score in [0, 1]."""
    path = tmp_path / "in.csv"
    path.write_text(text)
    done = run_cli(str(path))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    given = rows_of(text)
    assert len(lines) - 1 == len(given)
    for got, row in zip(lines[1:], given, strict=True):
        assert got.rsplit(",", 1)[0] == ",".join([*row.split(","), ""][:2])
    scores = np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]])
    assert ((scores >= 0) & (scores <= 1)).all()
    return scores, done.stderr


def with_rows(csv_text: str, edit: dict[int, str]) -> str:
    """``csv_text`` with data rows (0-based) replaced; an empty replacement deletes the row."""
    rows = rows_of(csv_text)
    out = [edit.get(i, row) for i, row in enumerate(rows)]
    return "timestamp,value\n" + "\n".join(r for r in out if r) + "\n"


def test_a_daylight_saving_step_back_is_scored_not_refused(tmp_path: Path, csv_text: str) -> None:
    # Rows 100..111 repeat the hour before them, as a local clock falling back does.
    rows = rows_of(csv_text)
    stamps = [r.split(",")[0] for r in rows]
    text = with_rows(
        csv_text, {i: f"{stamps[i - 12]},{rows[i].split(',')[1]}" for i in range(100, 112)}
    )
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert "line 102: " in stderr
    assert "earlier than a row before it" in stderr
    assert scores[250] >= 0.8
    assert scores[200:250].max() < 0.5


def test_repeated_timestamps_are_each_scored(tmp_path: Path, csv_text: str) -> None:
    rows = rows_of(csv_text)
    stamp = rows[150].split(",")[0]
    text = with_rows(csv_text, {151: f"{stamp},40.1", 152: f"{stamp},39.9"})
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert "line 153: " in stderr
    assert "repeats a time before it" in stderr
    assert "line 154: " in stderr
    assert scores[250] >= 0.8


def test_out_of_order_rows_keep_their_order(tmp_path: Path, csv_text: str) -> None:
    rows = rows_of(csv_text)
    text = with_rows(csv_text, {60: rows[61], 61: rows[60]})
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert "line 63: " in stderr
    assert scores[250] >= 0.8


def test_a_gap_is_reported_and_scored_across(tmp_path: Path, csv_text: str) -> None:
    text = with_rows(csv_text, dict.fromkeys(range(120, 180), ""))
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert "line 122: 18300 s since the row before (typically 300 s)" in stderr
    assert scores[250 - 60] >= 0.8


@pytest.mark.parametrize("value", ["", "oops", "NaN", "inf", "1e999"])
def test_rows_without_a_number_score_0_and_teach_nothing(
    tmp_path: Path, csv_text: str, value: str
) -> None:
    rows = rows_of(csv_text)
    edit = {i: f"{rows[i].split(',')[0]},{value}" for i in (0, 130, 131, 249)}
    scores, stderr = check_every_row_scored(with_rows(csv_text, edit), tmp_path)
    for line in (2, 132, 133, 251):
        assert f"line {line}: value" in stderr
    assert scores[[0, 130, 131, 249]].tolist() == [0.0] * 4
    assert scores[250] >= 0.8


def test_a_constant_series_scores_0_everywhere(tmp_path: Path) -> None:
    text = "timestamp,value\n" + "".join(f"{300 * i},7.5\n" for i in range(200))
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert scores.max() < 1e-9  # rounding, no more
    assert "line 2: every value is 7.5" in stderr


def test_a_constant_stretch_then_a_step_is_detected(tmp_path: Path) -> None:
    values = [0.0] * 150 + [3.0] * 50
    text = "timestamp,value\n" + "".join(f"{300 * i},{v}\n" for i, v in enumerate(values))
    scores, _ = check_every_row_scored(text, tmp_path)
    assert scores[:150].max() < 1e-9
    assert scores[150] >= 0.8


def test_unreadable_times_and_short_rows_are_scored_0(tmp_path: Path, csv_text: str) -> None:
    text = with_rows(csv_text, {10: "soon,41", 11: "1392391800"})
    scores, stderr = check_every_row_scored(text, tmp_path)
    assert "line 12: timestamp 'soon' is not a time" in stderr
    assert "line 13: expected 2 fields (timestamp,value), got 1" in stderr
    assert scores[10] == scores[11] == 0.0


def test_many_alike_warnings_are_counted_not_listed(tmp_path: Path, csv_text: str) -> None:
    rows = rows_of(csv_text)
    edit = {i: f"{rows[i].split(',')[0]}," for i in range(20, 45)}
    _, stderr = check_every_row_scored(with_rows(csv_text, edit), tmp_path)
    assert stderr.count(": value is empty") == 10
    assert "15 more lines like these (value)" in stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [("when,what\n1,2\n", "line 1"), ("timestamp,value\n1,\xff\n", "line 2")],
)
def test_a_file_that_is_not_timestamp_value_text_exits_2(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1"))
    done = run_cli(str(path))
    assert done.returncode == 2
    assert message in done.stderr
    assert str(path) in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "absent.csv"))
    assert done.returncode == 2
    assert "cannot read" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_parameter_changes_for_one_run() -> None:
    """``--param``: a shorter memory of the extremes lets a second, smaller spike count."""
    rng = np.random.default_rng(4)
    values = 40.0 + rng.standard_normal(1500)
    values[300], values[1200] = 80.0, 55.0
    text = csv_of(values)
    default = split(run_cli("-", stdin=text).stdout.splitlines())[1]
    changed = run_cli("-", "--param", "envelope_half_life=100", stdin=text)
    assert changed.returncode == 0, changed.stderr
    short = split(changed.stdout.splitlines())[1]
    assert default[1200] < 0.5 <= short[1200]
    assert default[300] >= 0.8
    assert short[300] >= 0.8
    spelled = run_cli("-", "--param", "envelope-half-life = 100", stdin=text)
    np.testing.assert_array_equal(split(spelled.stdout.splitlines())[1], short)


@pytest.mark.parametrize(
    ("param", "named"),
    [
        ("no_such=1", "expected NAME=VALUE, NAME one of level_rate"),
        ("hold", "expected NAME=VALUE"),
        ("hold=1.5", "--param hold: '1.5' is not an integer"),
        ("band_sigmas=wide", "--param band_sigmas: 'wide' is not a number"),
        ("level_rate=2", "detector parameter level_rate must be in (0, 0.5]"),
    ],
)
def test_a_bad_parameter_exits_2_naming_it(csv_text: str, param: str, named: str) -> None:
    done = run_cli("-", "--param", param, stdin=csv_text)
    assert done.returncode == 2
    assert named in done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
