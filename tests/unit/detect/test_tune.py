"""The tuning procedure: reproducible candidates, and a choice made only on the files it sees."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lib.detect import Params
from tests.bench import nab, tune


def test_candidates_are_reproducible_valid_and_start_from_the_committed_params() -> None:
    drawn = tune.candidates(8, seed=3)
    assert drawn == tune.candidates(8, seed=3)
    assert drawn != tune.candidates(8, seed=4)
    assert drawn[0] == Params()
    for params in drawn[1:]:
        for name in tune.SEARCHED:
            ratio = getattr(params, name) / getattr(Params(), name)
            assert 1 / tune.SPREAD - 0.05 <= ratio <= tune.SPREAD + 0.05


def test_scaled_keeps_integers_and_limits() -> None:
    p = tune.scaled(Params(), {"hold": 0.5, "level_rate": 100.0, "warmup": 0.01})
    assert p.hold == 15
    assert p.level_rate == 0.5
    assert p.warmup == 1


def labelled(n: int, window: tuple[int, int]) -> nab.LabelledFile:
    stamps = np.arange(n).astype("datetime64[s]")
    return nab.LabelledFile("f", stamps, np.zeros(n), (window,))


def test_the_choice_never_looks_at_the_held_out_file() -> None:
    files = [labelled(200, (150, 160)), labelled(200, (150, 160))]
    good = np.zeros(200)
    good[150] = 1.0
    bad = np.zeros(200)
    bad[60] = 1.0
    # Candidate 1 is perfect on file 0 only, candidate 0 on file 1 only.
    scored = [[bad, good], [good, bad]]
    cv = tune.cross_validate(files, scored)
    assert [c.candidate for c in cv.choices] == [0, 1]
    # Each file is scored by what was best on the other: it misses and raises a false alarm.
    assert cv.normalised[0] < 0
    assert tune.choose(files, scored, [0]).candidate == 1


def test_a_perfect_candidate_cross_validates_to_100() -> None:
    files = [labelled(200, (150, 160)), labelled(300, (250, 270))]
    perfect = []
    for f in files:
        s = np.zeros(len(f.values))
        s[f.windows[0][0]] = 0.9
        perfect.append(s)
    noise = [np.full(len(f.values), 0.5) for f in files]
    cv = tune.cross_validate(files, [noise, perfect])
    assert cv.normalised == pytest.approx((100.0, 100.0, 100.0))
    assert dataclasses.astuple(cv.choices[0])[0] == 1
