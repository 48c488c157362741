"""How the detector's parameters are chosen, and how honest the choice is: rerun it here.

Command::

    .venv/bin/python -m tests.bench.tune [--candidates 60] [--seed 13]

The procedure: a random search. Candidate 0 is ``Params()`` as committed; the others draw every
searched parameter log-uniformly within a factor ``SPREAD`` of it (integers rounded), from a
fixed seed. Every candidate scores every file of the corpus in-process, through the same path as
the CLI (``lib.detect.rows.score_series``), and the candidate with the best NAB standard
score over the files it may see wins; each profile then keeps the threshold best on those files.

Candidate 0 was itself tuned by hand on these 17 files before this procedure existed, so the
cross-validated figure of a search that includes it is flattering; the script also prints the
same check with candidate 0 left out, a search whose every candidate is drawn blind.

``--candidates`` draws, run on all 17 files, give the *in-sample* choice (what ``Params()``
should be). Its honesty is measured by leave-one-file-out cross-validation: for each file, the
same choice (parameters and thresholds) made on the other 16, then applied to that file; the
held-out files' raw NAB sums are added up and normalised over the corpus as NAB does.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.detect import Params, SeriesConfig
from lib.detect.csvio import Series, parse_series
from lib.detect.rows import score_series
from tests.bench import nab

COMMAND = ".venv/bin/python -m tests.bench.tune"
SPREAD = 3.0
"""Searched values lie within this factor of the committed ones."""
SEARCHED = (
    "level_rate",
    "winsor",
    "trend_rate",
    "trend_horizon",
    "season_rate",
    "fast_rate",
    "band_sigmas",
    "envelope_margin",
    "envelope_half_life",
    "critical_stretch",
    "hold",
)
"""Parameters the search moves; the rest (slots, warm-up, refresh) describe the data layout."""
LIMITS = {"level_rate": 0.5, "trend_rate": 1.0, "season_rate": 1.0, "fast_rate": 1.0}
DEFAULT_CANDIDATES = 60
DEFAULT_SEED = 13


def candidates(n: int, seed: int = DEFAULT_SEED, centre: Params | None = None) -> list[Params]:
    """``centre`` (default ``Params()``) and ``n - 1`` random neighbours of it, reproducibly."""
    centre = centre or Params()
    rng = np.random.default_rng(seed)
    drawn = [centre]
    for _ in range(n - 1):
        factors = np.exp(rng.uniform(-math.log(SPREAD), math.log(SPREAD), len(SEARCHED)))
        drawn.append(scaled(centre, dict(zip(SEARCHED, factors.tolist(), strict=True))))
    return drawn


def scaled(params: Params, factors: dict[str, float]) -> Params:
    """``params`` with each named parameter multiplied by its factor (kept valid)."""
    changes: dict[str, float | int] = {}
    for name, factor in factors.items():
        value = getattr(params, name) * factor
        value = min(value, LIMITS.get(name, math.inf))
        changes[name] = max(1, round(value)) if isinstance(getattr(params, name), int) else value
    return dataclasses.replace(params, **changes)


def read_series(nab_dir: Path, files: Sequence[nab.LabelledFile]) -> list[Series]:
    """The files as the CLI reads them."""
    folder = nab_dir / "data" / nab.CATEGORY
    return [parse_series((folder / f"{f.name}.csv").read_text().splitlines()) for f in files]


def score_all(series: Sequence[Series], params: Params) -> list[np.ndarray]:
    """Scores of every file with ``params``, exactly as the CLI would print them."""
    config = SeriesConfig()
    return [score_series(s, config, params) for s in series]


@dataclass(frozen=True)
class Choice:
    """What the procedure picks on some files: a candidate and a threshold per profile."""

    candidate: int
    thresholds: tuple[float, ...]


def choose(
    files: Sequence[nab.LabelledFile], scored: Sequence[Sequence[np.ndarray]], train: list[int]
) -> Choice:
    """The candidate best on ``train`` under the standard profile, and each profile's threshold."""
    subset = [files[i] for i in train]
    best, best_total = 0, -math.inf
    for c, scores in enumerate(scored):
        total = nab.score_corpus(subset, [scores[i] for i in train], nab.PROFILES[0]).raw
        if total > best_total + 1e-12:
            best, best_total = c, total
    chosen = [scored[best][i] for i in train]
    thresholds = tuple(nab.score_corpus(subset, chosen, p).threshold for p in nab.PROFILES)
    return Choice(best, thresholds)


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-file-out result: per profile, the normalised score of the held-out files."""

    normalised: tuple[float, ...]
    choices: tuple[Choice, ...]  # the choice made without file i, for each file i


def cross_validate(
    files: Sequence[nab.LabelledFile], scored: Sequence[Sequence[np.ndarray]]
) -> CrossValidation:
    """Choose on 16 files, score the 17th, for every file; normalise the sum over the corpus."""
    everyone = range(len(files))
    choices = tuple(choose(files, scored, [j for j in everyone if j != i]) for i in everyone)
    return CrossValidation(held_out_scores(files, scored, choices), choices)


def held_out_scores(
    files: Sequence[nab.LabelledFile],
    scored: Sequence[Sequence[np.ndarray]],
    choices: Sequence[Choice],
) -> tuple[float, ...]:
    """Per profile: file i scored by its choice's candidate at its choice's threshold."""
    result = []
    for p, profile in enumerate(nab.PROFILES):
        raw = sum(
            nab.raw_at_threshold(f, scored[c.candidate][i], profile, c.thresholds[p])
            for i, (f, c) in enumerate(zip(files, choices, strict=True))
        )
        result.append(nab.normalise(files, raw, profile))
    return tuple(result)


def sensitivity(
    files: Sequence[nab.LabelledFile],
    series: Sequence[Series],
    drawn: Sequence[Params],
    cv: CrossValidation,
    factor: float,
) -> dict[str, float]:
    """Cross-validated standard score with each parameter times ``factor``, one at a time.

    Each fold keeps its own choice with the one parameter changed, picks its threshold again on
    its 16 files and scores its held-out file, as ``cross_validate`` does.
    """
    standard = nab.PROFILES[0]
    result = {}
    for name in (f.name for f in dataclasses.fields(Params)):
        changed = {c: scaled(drawn[c], {name: factor}) for c in {c.candidate for c in cv.choices}}
        scored = {c: score_all(series, params) for c, params in changed.items()}
        raw = 0.0
        for i, choice in enumerate(cv.choices):
            train = [j for j in range(len(files)) if j != i]
            scores = scored[choice.candidate]
            threshold = nab.score_corpus(
                [files[j] for j in train], [scores[j] for j in train], standard
            ).threshold
            raw += nab.raw_at_threshold(files[i], scores[i], standard, threshold)
        result[name] = nab.normalise(files, raw, standard)
    return result


def describe(params: Params) -> str:
    return ", ".join(f"{name}={getattr(params, name):.4g}" for name in SEARCHED)


def main() -> None:
    from tests.bench.bench_nab import nab_dir

    parser = argparse.ArgumentParser(prog="python -m tests.bench.tune", description=__doc__)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    data = nab_dir()
    files = nab.load_corpus(data)
    series = read_series(data, files)
    drawn = candidates(args.candidates, args.seed)
    started = time.perf_counter()
    scored = [score_all(series, params) for params in drawn]
    elapsed = time.perf_counter() - started
    chosen = choose(files, scored, list(range(len(files))))
    in_sample = [nab.score_corpus(files, scored[chosen.candidate], p) for p in nab.PROFILES]
    committed = [nab.score_corpus(files, scored[0], p) for p in nab.PROFILES]
    cv = cross_validate(files, scored)
    names = "  ".join(f"{p.name:>18}" for p in nab.PROFILES)
    print(f"{len(drawn)} candidates (seed {args.seed}) x {len(files)} files in {elapsed:.0f} s")
    print(f"{'':36}{names}")
    print(f"{'committed Params(), in-sample':36}" + row(r.normalised for r in committed))
    print(f"{'best of the search, in-sample':36}" + row(r.normalised for r in in_sample))
    print(f"{'the search, cross-validated (LOO)':36}" + row(cv.normalised))
    fresh = cross_validate(files, scored[1:])
    print(f"{'without candidate 0, cross-validated':36}" + row(fresh.normalised))
    print(f"best (candidate {chosen.candidate}): {describe(drawn[chosen.candidate])}")
    print("folds (held-out file: candidate chosen without it):")
    for f, c in zip(files, cv.choices, strict=True):
        print(f"  {f.name:<40} {c.candidate}")
    print(f"command: {COMMAND} --candidates {args.candidates} --seed {args.seed}")


def row(values: Iterable[float]) -> str:
    return "  ".join(f"{v:18.2f}" for v in values)


if __name__ == "__main__":
    main()
