"""NAB table: the adaptive detector on real AWS CloudWatch metrics, beside published detectors.

Command::

    .venv/bin/python -m tests.bench.bench_nab

Data: ``$NAB_DIR`` (default ``../shared/data/nab`` next to the repository), the
``realAWSCloudwatch`` subset of the Numenta Anomaly Benchmark; see its README.md.

Ours is scored by running ``python -m lib.detect score FILE`` on every file as a subprocess,
with the product's default configuration: one configuration for every file, no labels, no
look-ahead. Beside it: the two naive baselines of ``tests/bench/baselines.py``, every
published detector under ``baselines/``, and CAD OSE re-implemented (``tests/bench/cad_ose.py``,
checked here row by row against its published scores). Each row is normalised NAB score per
profile with the threshold swept over the corpus (``tests/bench/nab.py``). That table is
*in-sample*: the committed parameters were chosen on these same files.

Beside it, the *cross-validated* figure: the files split in two halves (twice, fixed seed), each
half scored with the parameters and thresholds (one of ``tune.STRENGTHS``) that
``tests/bench/tune.py``'s search, run again from its fixed start, picks on the other half
(``--loo``: leave-one-file-out, 17 searches; the folds and each fold's choice are printed), and
a sensitivity table: that cross-validated standard score with each parameter halved and doubled,
in every fold's choice ("kept") and with the whole procedure run again around it ("rerun").

``--param NAME=VALUE`` (repeatable) runs all of it around a changed default, as the CLI's option
of that name: what the committed value is worth against another.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from lib.detect import Params
from lib.detect.params import with_overrides
from tests.bench import baselines, cad_ose, nab, tune
from tests.bench.provenance import commit

REPO = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m tests.bench.bench_nab"
OURS = "adaptive (ours, via CLI)"
CAD_OSE = "CAD OSE (re-implemented)"


def nab_dir() -> Path:
    """``$NAB_DIR``, else ``shared/data/nab`` beside the checkout (or beside the main checkout,
    from a git worktree)."""
    if "NAB_DIR" in os.environ:
        return Path(os.environ["NAB_DIR"]).resolve()
    beside = REPO.parent / "shared" / "data" / "nab"
    if beside.exists():
        return beside.resolve()
    done = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    common = Path(done.stdout.strip())
    if done.returncode == 0 and common.is_absolute():
        main_beside = common.parent.parent / "shared" / "data" / "nab"
        if main_beside.exists():
            return main_beside.resolve()
    return beside.resolve()


def score_with_cli(path: Path, options: Sequence[str] = ()) -> np.ndarray:
    """Scores of ``path`` as printed by ``python -m lib.detect score [options]``."""
    done = subprocess.run(
        [sys.executable, "-m", "lib.detect", "score", str(path), *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = done.stdout.splitlines()[1:]
    return np.array([float(row.rsplit(",", 1)[1]) for row in rows])


def _ours(data: Path, files: list[nab.LabelledFile], options: Sequence[str]) -> list[np.ndarray]:
    return [score_with_cli(data / "data" / nab.CATEGORY / f"{f.name}.csv", options) for f in files]


def _naive(
    detector: Callable[[np.ndarray], np.ndarray], files: list[nab.LabelledFile]
) -> list[np.ndarray]:
    return [detector(f.values) for f in files]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_nab", description=__doc__)
    parser.add_argument("--loo", action="store_true", help="leave-one-file-out (17 searches)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="run everything around a changed default (repeatable), as the CLI's --param",
    )
    args = parser.parse_args()
    around = with_overrides(args.param)
    options = [f"--param={p}" for p in args.param]
    data = nab_dir()
    files = nab.load_corpus(data)
    started = time.perf_counter()
    detectors = {OURS: _ours(data, files, options)}
    ours_s = time.perf_counter() - started
    detectors["static 80/90 (value as-is)"] = _naive(baselines.static_thresholds, files)
    detectors["mean ± 2σ, previous 288 samples"] = _naive(baselines.mean_2sigma, files)
    for published in sorted(p.name for p in (data / "baselines").iterdir() if p.is_dir()):
        detectors[f"{published} (published)"] = nab.load_detector(data, published, files)
    detectors[CAD_OSE] = cad_ose.scores_all([f.values for f in files])

    table = {
        name: [nab.score_corpus(files, scores, profile) for profile in nab.PROFILES]
        for name, scores in detectors.items()
    }
    ranked = sorted(table.items(), key=lambda item: -item[1][0].normalised)
    names = [p.name for p in nab.PROFILES]
    width = max(len(name) for name in table)
    print(f"NAB {nab.CATEGORY}: {len(files)} files, {sum(len(f.windows) for f in files)} windows")
    print(f"{'detector':<{width}}  " + "  ".join(f"{n:>18}" for n in names))
    for name, results in ranked:
        print(f"{name:<{width}}  " + "  ".join(f"{r.normalised:18.2f}" for r in results))
    print()
    rank = [name for name, _ in ranked].index(OURS) + 1
    print(f"ours ranks {rank} of {len(ranked)} under the standard profile")
    print(
        f"ours: {ours_s:.1f} s for {len(files)} CLI runs ({sum(len(f.values) for f in files)} rows)"
    )
    _check_cad_ose(detectors[CAD_OSE], detectors.get("contextOSE (published)"))
    print()
    _cross_validated(data, files, table[OURS], args.loo, around)
    print(f"command: {COMMAND}{' --loo' if args.loo else ''} {' '.join(options)}".rstrip())
    print(f"NAB_DIR={data}")
    print(f"commit: {commit()}  python {platform.python_version()}  numpy {np.__version__}")


def _check_cad_ose(ours: list[np.ndarray], published: list[np.ndarray] | None) -> None:
    """How many rows of the re-implemented CAD OSE agree with the published contextOSE scores."""
    if published is None:
        return
    agree = sum(
        int(np.isclose(a, b, rtol=1e-11, atol=0.0).sum())
        for a, b in zip(ours, published, strict=True)
    )
    total = sum(len(b) for b in published)
    print(f"CAD OSE re-implemented (tests/bench/cad_ose.py): {agree}/{total} rows agree with the")
    print("published contextOSE scores to the 12 digits NAB wrote")


def _cross_validated(
    data: Path,
    files: list[nab.LabelledFile],
    in_sample: list[nab.CorpusScore],
    loo: bool,
    around: Params,
) -> None:
    memo = tune.Memo(tune.read_series(data, files))
    started = time.perf_counter()
    splits = tune.leave_one_out(len(files)) if loo else tune.halves(len(files))
    cv = tune.cross_validate(files, memo, splits, around)
    scheme = (
        f"leave-one-file-out, {len(files)} folds"
        if loo
        else f"2-fold repeated {len(splits)} times (tests/bench/tune.py halves, seed 13)"
    )
    width = 44
    names = "  ".join(f"{p.name:>18}" for p in nab.PROFILES)
    print(
        f"cross-validation: {scheme}; each fold runs the whole search (tests/bench/tune.py)"
        " on the files it keeps and scores the ones it holds out"
    )
    print(f"{'':{width}}{names}")
    which = "committed Params" if around == Params() else "--param"
    print(f"{f'ours, in-sample ({which})':{width}}" + tune.row(r.normalised for r in in_sample))
    print(f"{'ours, cross-validated':{width}}" + tune.row(cv.normalised))
    print("folds (repeat, held-out files, standard threshold chosen without them, choice):")
    distinct: dict[Params, int] = {}
    for fold in cv.folds:
        label = distinct.setdefault(fold.choice.params, len(distinct))
        held = " ".join(files[i].name for i in fold.held_out)
        print(f"  {fold.repeat}  {fold.choice.thresholds[0]:.4f}  choice {label}  {held}")
    for params, label in distinct.items():
        print(f"  choice {label}: {tune.describe(params)}")
    print()
    base = cv.normalised[0]
    half = tune.sensitivity(files, memo, cv, 0.5)
    double = tune.sensitivity(files, memo, cv, 2.0)
    rerun_half = tune.rerun_sensitivity(files, memo, splits, 0.5, around)
    rerun_double = tune.rerun_sensitivity(files, memo, splits, 2.0, around)
    print(
        f"sensitivity: cross-validated standard score ({base:.2f}) with one parameter halved or"
        " doubled; 'kept': in every fold's choice, the thresholds chosen again; 'rerun': the"
        " whole procedure run again around it (the searched parameters may adapt)"
    )
    print(
        f"{'parameter':<20}{'kept x 0.5':>12}{'x 2':>8}{'rerun x 0.5':>13}{'x 2':>8}"
        f"{'worst change':>14}"
    )
    for name in half:
        kept = (half[name] - base, double[name] - base)
        rerun = (
            rerun_half.get(name, half[name]) - base,
            rerun_double.get(name, double[name]) - base,
        )
        shown = (
            f"{rerun[0]:>+13.2f}{rerun[1]:>+8.2f}" if name in rerun_half else f"{'searched':>21}"
        )
        print(f"{name:<20}{kept[0]:>+12.2f}{kept[1]:>+8.2f}{shown}{min(rerun):>+14.2f}")
    worst_kept = min(min(half.values()), min(double.values())) - base
    worst_rerun = (
        min(min(rerun_half.get(n, half[n]), rerun_double.get(n, double[n])) for n in half) - base
    )
    print(
        f"largest loss from one parameter halved or doubled: {worst_kept:+.2f} points with the"
        f" folds' choices kept, {worst_rerun:+.2f} with the procedure run again"
    )
    _worst_explained(files, memo, cv, {0.5: half, 2.0: double})
    window = nab.normalise(files, 2.0, nab.PROFILES[0]) - nab.normalise(files, 0.0, nab.PROFILES[0])
    print(
        f"resolution: one window found instead of missed moves the standard score by about"
        f" {window:.2f} points ({sum(len(f.windows) for f in files)} windows)"
    )
    print(
        f"cross-validation and sensitivity: {len(memo)} file runs in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _worst_explained(
    files: list[nab.LabelledFile],
    memo: tune.Memo,
    cv: tune.CrossValidation,
    scores: dict[float, dict[str, float]],
) -> None:
    """What the largest loss with the choices kept is made of: per held-out file, the windows
    found and the false detections, before and after."""
    factor, name = min(
        ((f, n) for f in scores for n in scores[f]), key=lambda k: scores[k[0]][k[1]]
    )
    before = tune.held_out_detections(files, memo, cv.folds)
    after = tune.held_out_detections(files, memo, tune.kept_folds(files, memo, cv, name, factor))
    repeats = len({f.repeat for f in cv.folds})
    print(
        f"the largest loss ({name} x {factor:g}, choices kept) file by file, over"
        f" {repeats} repeat(s): windows found, false detections"
    )
    for i in sorted(before):
        if before[i] != after[i]:
            (w0, f0), (w1, f1) = before[i], after[i]
            print(f"  {files[i].name:<40} windows {w0} -> {w1}   false {f0:>3} -> {f1}")
    (w0, f0), (w1, f1) = (tuple(map(sum, zip(*d.values(), strict=True))) for d in (before, after))
    print(f"  {'all files':<40} windows {w0} -> {w1}   false {f0:>3} -> {f1}")


if __name__ == "__main__":
    main()
