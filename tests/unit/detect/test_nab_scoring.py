"""Our NAB scorer reproduces the reference figures published for these 17 files."""

from __future__ import annotations

import pytest

from tests.bench import nab
from tests.bench.bench_nab import nab_dir

NAB_DIR = nab_dir()
pytestmark = pytest.mark.skipif(
    not (NAB_DIR / "labels" / "combined_windows.json").exists(),
    reason=f"NAB data not found at {NAB_DIR} (set NAB_DIR)",
)

# From the data's README: threshold swept per profile, normalised over these files only.
REFERENCE = {
    "numenta": (73.42, 68.75, 76.72),
    "windowedGaussian": (31.24, 4.92, 42.97),
    "null": (0.0, 0.0, 0.0),
}


@pytest.fixture(scope="module")
def files() -> list[nab.LabelledFile]:
    return nab.load_corpus(NAB_DIR)


@pytest.mark.parametrize("detector", sorted(REFERENCE))
def test_published_detectors_score_as_published(files, detector: str) -> None:
    scores = nab.load_detector(NAB_DIR, detector, files)
    got = [nab.score_corpus(files, scores, p).normalised for p in nab.PROFILES]
    assert got == pytest.approx(REFERENCE[detector], abs=0.1)


def test_the_corpus_is_the_one_described(files) -> None:
    assert len(files) == 17
    assert sum(len(f.windows) for f in files) == 30
    assert nab.probation_rows(4032) == 604
    assert nab.probation_rows(10_000) == 750


def test_a_perfect_detector_scores_100_and_one_that_detects_everything_0(files) -> None:
    perfect = []
    for f in files:
        s = [0.0] * len(f.values)
        for lo, _ in f.windows:
            s[lo] = 1.0
        perfect.append(s)
    assert nab.score_corpus(files, perfect, nab.PROFILES[0]).normalised == pytest.approx(100.0)
    everything = [[1.0] * len(f.values) for f in files]
    raw = nab.score_corpus(files, everything, nab.PROFILES[0])
    assert raw.normalised == 0.0  # no threshold beats detecting nothing


def test_held_out_sums_at_the_corpus_threshold_give_the_corpus_score(files) -> None:
    scores = nab.load_detector(NAB_DIR, "numenta", files)
    for profile in nab.PROFILES:
        corpus = nab.score_corpus(files, scores, profile)
        raw = sum(
            nab.raw_at_threshold(f, s, profile, corpus.threshold)
            for f, s in zip(files, scores, strict=True)
        )
        assert raw == pytest.approx(corpus.raw)
        assert nab.normalise(files, raw, profile) == pytest.approx(corpus.normalised)
