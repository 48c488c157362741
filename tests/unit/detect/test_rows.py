"""A parsed file's rows through the detector: what the CLI prints, and what a bad row costs."""

from __future__ import annotations

import numpy as np

from lib.detect import SeriesConfig, score_window
from lib.detect.csvio import parse_series
from lib.detect.rows import score_series


def lines(values: list[str], step: int = 300) -> list[str]:
    return ["timestamp,value", *(f"{step * i},{v}" for i, v in enumerate(values))]


def noisy(n: int) -> list[str]:
    rng = np.random.default_rng(7)
    return [f"{v:.4f}" for v in 10 + rng.standard_normal(n)]


def test_tidy_rows_score_as_the_vectorised_detector_does() -> None:
    values = noisy(200)
    got = score_series(parse_series(lines(values)), SeriesConfig())
    x = np.array([float(v) for v in values])
    want = score_window(x[:, None], 300.0 * np.arange(200)).score[:, 0]
    np.testing.assert_array_equal(got, want)


def test_unreadable_rows_score_0_and_the_others_as_if_they_were_absent() -> None:
    values = noisy(200)
    untidy = [*values[:80], "", "n/a", *values[80:]]
    got = score_series(parse_series(lines(untidy)), SeriesConfig())
    assert got[80] == got[81] == 0.0
    # Without the two rows (and their time): the same scores for every other row.
    tidy = score_series(parse_series(lines(values)), SeriesConfig())
    others = np.delete(got, [80, 81])
    # To rounding: rows that share a refresh stretch with a gap run the per-row-rate path.
    np.testing.assert_allclose(others[:80], tidy[:80], rtol=1e-12, atol=1e-15)
    assert np.isfinite(others).all()


def test_a_file_with_nothing_scorable_scores_0_everywhere() -> None:
    got = score_series(parse_series(lines(["", "x", "-"])), SeriesConfig())
    assert got.tolist() == [0.0, 0.0, 0.0]
