"""The tuning procedure: fixed grids and start, a smoothed search, a choice made only on the files
it sees."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lib.detect import Params
from lib.detect.csvio import parse_series
from lib.detect.levels import beyond_warning
from tests.bench import nab, tune


def test_grids_step_by_factors_of_two_and_the_search_starts_in_their_middle() -> None:
    start = tune.start()
    for name in tune.RANGES:
        values = tune.grid(name)
        assert len(values) >= 3
        assert values[0] == tune.RANGES[name][0]
        assert values[-1] == pytest.approx(tune.RANGES[name][1])
        assert np.allclose(np.diff(np.log2(values)), 1.0)
        assert start[name] == len(values) // 2
    params = tune.at(start)
    assert params.band_sigmas == tune.grid("band_sigmas")[start["band_sigmas"]]


def test_scaled_keeps_integers_and_limits() -> None:
    p = tune.scaled(Params(), {"hold": 0.5, "level_rate": 100.0, "warmup": 0.01})
    assert p.hold == round(Params().hold / 2)
    assert p.level_rate == 0.5
    assert p.warmup == 1


def test_smoothing_prefers_a_plateau_to_a_spike() -> None:
    values = [0.0, 10.0, 0.0, 8.0, 8.0, 8.0]
    assert int(np.argmax(values)) == 1
    assert int(np.argmax(tune.smoothed(values))) == 4


def test_the_search_climbs_to_the_peak_of_a_separable_objective() -> None:
    target = {name: len(tune.grid(name)) - 1 - (i % 2) for i, name in enumerate(tune.RANGES)}
    peak = tune.at(target)

    def objective(params: Params) -> float:
        return -sum(
            math.log2(getattr(params, name) / getattr(peak, name)) ** 2 for name in tune.RANGES
        )

    assert tune.search(objective) == peak


def labelled(n: int, window: tuple[int, int]) -> nab.LabelledFile:
    stamps = np.arange(n).astype("datetime64[s]")
    return nab.LabelledFile("f", stamps, np.zeros(n), (window,))


def test_the_choice_never_looks_at_the_held_out_file() -> None:
    files = [labelled(200, (150, 160)), labelled(200, (150, 160))]
    good = np.zeros(200)
    good[150] = 1.0
    bad = np.zeros(200)
    bad[60] = 1.0
    narrow = tune.grid("band_sigmas")[0]

    # The narrowest band is perfect on file 0 only, every other one on file 1 only.
    def scores_of(params: Params) -> list[np.ndarray]:
        return [good, bad] if params.band_sigmas == narrow else [bad, good]

    cv = tune.cross_validate(files, scores_of, tune.leave_one_out(2))
    assert [f.held_out for f in cv.folds] == [(0,), (1,)]
    assert cv.folds[0].choice.params.band_sigmas != narrow
    assert cv.folds[1].choice.params.band_sigmas == narrow
    # Each file is scored by what was best on the other: it misses and raises a false alarm.
    assert cv.normalised[0] < 0
    assert tune.choose(files, scores_of, [0]).params.band_sigmas == narrow


def test_a_perfect_detector_cross_validates_to_100_and_is_insensitive() -> None:
    files = [labelled(200, (150, 160)), labelled(300, (250, 270))]
    perfect = []
    for f in files:
        s = np.zeros(len(f.values))
        s[f.windows[0][0]] = 0.9
        perfect.append(s)
    cv = tune.cross_validate(files, lambda params: perfect, tune.halves(2, repeats=3))
    assert len(cv.folds) == 6
    assert cv.normalised == pytest.approx((100.0, 100.0, 100.0))
    assert set(tune.sensitivity(files, lambda params: perfect, cv, 2.0).values()) == {100.0}


def test_thresholds_are_levels_chosen_smoothed_and_a_level_counts_what_it_admits() -> None:
    files = [labelled(200, (150, 160))]
    levels = tune.levels(Params())
    assert levels[0] == 0.5
    scores = np.zeros(200)
    scores[150] = (levels[2] + levels[3]) / 2
    scores[60] = (levels[1] + levels[2]) / 2
    at = nab.normalised_at(files, [scores], nab.PROFILES[0], levels)
    # The first two levels admit the false positive at row 60 too, the third only the
    # detection, the fourth nothing.
    assert at[0] == at[1] < at[2] == 100.0
    assert at[3] == at[4] == 0.0
    assert at[2] == pytest.approx(nab.score_corpus(files, [scores], nab.PROFILES[0]).normalised)
    # The third alone is best, but the fourth beside it detects nothing: the choice stays
    # inside the plateau.
    assert tune.thresholds(files, [scores], [0], Params()) == (levels[1],) * 3
    scores[150], scores[60] = (levels[3] + levels[4]) / 2, (levels[0] + levels[1]) / 2
    assert tune.thresholds(files, [scores], [0], Params()) == (levels[2],) * 3


def test_levels_are_strengths_so_the_critical_stretch_cannot_move_a_choice() -> None:
    """Halving ``critical_stretch`` reshapes every score beyond the warning band; the levels
    move with it and admit exactly the same rows."""
    strength = np.array([0.9, 1.0, 1.1, 1.2, 1.3, 1.6, 2.0, 3.0])
    for stretch in (0.25, 0.5, 1.0):
        scores = np.where(strength >= 1.0, beyond_warning(strength, stretch), 0.5 * strength**2)
        params = dataclasses.replace(Params(), critical_stretch=stretch)
        admitted = [tuple(scores >= level) for level in tune.levels(params)]
        assert admitted == [tuple(strength >= s) for s in tune.STRENGTHS]


def test_a_rerun_keeps_each_fixed_parameter_changed_while_the_search_adapts() -> None:
    files = [labelled(200, (150, 160)), labelled(200, (150, 160))]
    seen: list[Params] = []

    # Perfect while winsor is its default, and then only with the widest band searched.
    def scores_of(params: Params) -> list[np.ndarray]:
        seen.append(params)
        s = np.zeros(200)
        if params.winsor == Params().winsor or params.band_sigmas == tune.grid("band_sigmas")[-1]:
            s[150] = 0.9
        return [s, s]

    splits = tune.halves(2, repeats=1)
    result = tune.rerun_sensitivity(files, scores_of, splits, 2.0)
    assert set(result) == {f.name for f in dataclasses.fields(Params)} - set(tune.RANGES)
    assert set(result.values()) == {100.0}
    assert any(p.winsor == 2.0 * Params().winsor for p in seen)
    # Kept at the folds' choice instead, doubling winsor loses every window.
    cv = tune.cross_validate(files, scores_of, splits)
    assert tune.sensitivity(files, scores_of, cv, 2.0)["winsor"] < 100.0


def test_a_rerun_around_another_base_changes_one_parameter_of_that_base() -> None:
    files = [labelled(200, (150, 160)), labelled(200, (150, 160))]
    base = dataclasses.replace(Params(), envelope_half_life=4000.0)
    seen: list[Params] = []

    def scores_of(params: Params) -> list[np.ndarray]:
        seen.append(params)
        s = np.zeros(200)
        s[150] = 0.9
        return [s, s]

    tune.rerun_sensitivity(files, scores_of, tune.halves(2, repeats=1), 0.5, base)
    assert {p.envelope_half_life for p in seen} == {4000.0, 2000.0}
    assert any(p.winsor == Params().winsor / 2 and p.envelope_half_life == 4000.0 for p in seen)


def test_the_largest_loss_is_told_file_by_file() -> None:
    files = [labelled(200, (150, 160)), labelled(200, (150, 160))]

    # Perfect with the default winsor; doubled, file 1 misses and raises two false alarms.
    def scores_of(params: Params) -> list[np.ndarray]:
        s = np.zeros(200)
        s[150] = 0.9
        worse = s.copy()
        if params.winsor != Params().winsor:
            worse[150], worse[[80, 120]] = 0.0, 0.9
        return [s, worse]

    cv = tune.cross_validate(files, scores_of, tune.halves(2, repeats=2))
    folds = tune.kept_folds(files, scores_of, cv, "winsor", 2.0)
    assert all(f.choice.params.winsor == 2.0 * Params().winsor for f in folds)
    assert tune.held_out_detections(files, scores_of, cv.folds) == {0: (2, 0), 1: (2, 0)}
    assert tune.held_out_detections(files, scores_of, folds) == {0: (2, 0), 1: (0, 4)}


def test_halves_split_every_file_once_per_repeat_reproducibly() -> None:
    splits = tune.halves(17, repeats=3, seed=5)
    assert splits == tune.halves(17, repeats=3, seed=5)
    assert splits != tune.halves(17, repeats=3, seed=6)
    for first, second in splits:
        assert sorted(first + second) == list(range(17))
        assert {len(first), len(second)} == {8, 9}


def test_the_memo_scores_a_file_once_and_only_when_asked() -> None:
    rows = ["timestamp,value"] + [f"{60 * i},{i % 7}" for i in range(50)]
    series = [parse_series(rows), parse_series(rows[:30])]
    memo = tune.Memo(series)
    scores = memo(Params(warmup=5))
    assert len(memo) == 0
    first = scores[1]
    assert len(memo) == 1
    assert scores[1] is first
    assert np.array_equal(scores[0], tune.score_all(series, Params(warmup=5))[0])
    assert len(memo) == 2
