"""NAB's scoring rules on small hand-made files, without the NAB data."""

from __future__ import annotations

import numpy as np
import pytest

from tests.bench import nab

STANDARD = nab.PROFILES[0]
ROWS = 1000


def _file(name: str, windows: tuple[tuple[int, int], ...]) -> nab.LabelledFile:
    stamps = np.datetime64("2024-01-01T00:00:00", "s") + 300 * np.arange(ROWS)
    return nab.LabelledFile(name, stamps, np.zeros(ROWS), windows)


def test_a_file_without_windows_only_costs_its_false_positives() -> None:
    """As in NAB: every detection after probation is a full false positive, and the file adds
    nothing to the perfect or the null score."""
    with_window = _file("a", ((400, 499),))
    without = _file("b", ())
    hit = np.zeros(ROWS)
    hit[400] = 1.0
    quiet, noisy = np.zeros(ROWS), np.zeros(ROWS)
    noisy[[nab.probation_rows(ROWS) - 1, 700, 900]] = 1.0  # the first is still in probation

    alone = nab.score_corpus([with_window], [hit], STANDARD)
    assert alone.normalised == pytest.approx(100.0)
    assert nab.score_corpus([with_window, without], [hit, quiet], STANDARD) == alone
    assert nab.raw_at_threshold(without, noisy, STANDARD, 1.0) == pytest.approx(-2 * STANDARD.fp)
    assert nab.raw_at_threshold(without, quiet, STANDARD, 1.0) == 0.0
    both = nab.score_corpus([with_window, without], [hit, noisy], STANDARD)
    assert both.raw == pytest.approx(STANDARD.tp - 2 * STANDARD.fp)
    assert both.normalised == pytest.approx(100.0 * (both.raw + STANDARD.fn) / 2)


def test_detections_count_windows_found_once_and_every_false_row_after_probation() -> None:
    f = _file("a", ((400, 499), (700, 799)))
    hit = np.zeros(ROWS)
    hit[[10, 410, 420, 600, 601]] = 0.7
    hit[900] = 0.4
    assert nab.probation_rows(ROWS) > 10
    assert nab.detections(f, hit, 0.5) == (1, 2)
    assert nab.detections(f, hit, 0.3) == (1, 3)
    assert nab.detections(f, hit, 0.8) == (0, 0)
