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


@pytest.fixture(scope="module")
def csv_text() -> str:
    rng = np.random.default_rng(4)
    values = 40.0 + rng.standard_normal(300)
    values[250] = 95.0
    start = np.datetime64("2014-02-14T14:30:00")
    rows = [
        f"{str(start + np.timedelta64(300 * i, 's')).replace('T', ' ')},{v:.3f}"
        for i, v in enumerate(values)
    ]
    return "timestamp,value\n" + "\n".join(rows) + "\n"


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,oops\n", "line 3"),
        ("when,what\n1,2\n", "line 1"),
        ("timestamp,value\n1,2\n3\n", "line 3"),
    ],
)
def test_bad_input_exits_2_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
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
