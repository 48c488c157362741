"""The detector on NAB-format series it was never tuned on: generated spikes, dips, level shifts,
trend changes, variance bursts and stuck values, sampled every minute, 5 minutes or hour, at
scales from 1e-3 to 1e6 (``tests/bench/synthetic.py``).

Command::

    .venv/bin/python -m tests.bench.bench_synthetic [--seed 29] [--per-kind 3]

Ours goes through the CLI's path (the rows as text, ``parse_series``, ``score_series``) with the
committed parameters. Two figures per detector, NAB standard profile: the threshold swept on
these files (what NAB reports), and the threshold fixed beforehand, the one the committed
parameters get on the 17 AWS files (``$NAB_DIR``): a threshold nobody chose for these series.
Then per kind: windows found and false positives at the swept threshold.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from lib.detect import Params, SeriesConfig
from lib.detect.csvio import parse_series
from lib.detect.rows import score_series
from tests.bench import baselines, nab, synthetic, tune

COMMAND = ".venv/bin/python -m tests.bench.bench_synthetic"


def score_generated(g: synthetic.Generated) -> np.ndarray:
    stamps = [str(s).replace("T", " ") for s in g.file.timestamps]
    lines = [
        "timestamp,value",
        *(f"{s},{v!r}" for s, v in zip(stamps, g.file.values.tolist(), strict=True)),
    ]
    return score_series(parse_series(lines), SeriesConfig())


def _found(f: nab.LabelledFile, scores: np.ndarray, threshold: float) -> tuple[int, int]:
    """Windows with a detection, and detections outside every window, after probation."""
    hit = np.asarray(scores) >= threshold
    hit[: nab.probation_rows(len(scores))] = False
    inside = np.zeros(len(scores), dtype=bool)
    found = 0
    for lo, hi in f.windows:
        inside[lo : hi + 1] = True
        found += bool(hit[lo : hi + 1].any())
    return found, int((hit & ~inside).sum())


def main() -> None:
    from tests.bench.bench_nab import nab_dir

    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_synthetic")
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--per-kind", type=int, default=3)
    args = parser.parse_args()
    generated = synthetic.generate(args.seed, args.per_kind)
    files = [g.file for g in generated]
    standard = nab.PROFILES[0]

    data = nab_dir()
    aws = nab.load_corpus(data)
    aws_scores = tune.score_all(tune.read_series(data, aws), Params())
    fixed = nab.score_corpus(aws, aws_scores, standard).threshold

    detectors = {
        "adaptive (ours)": [score_generated(g) for g in generated],
        "mean ± 2σ, previous 288 samples": [baselines.mean_2sigma(f.values) for f in files],
    }
    print(
        f"{len(files)} generated files ({len(synthetic.KINDS)} kinds x {args.per_kind}, "
        f"intervals {synthetic.INTERVALS_S} s), {sum(len(f.windows) for f in files)} windows"
    )
    print(f"{'detector':<34}{'swept':>10}{'AWS threshold':>15}")
    for name, scores in detectors.items():
        swept = nab.score_corpus(files, scores, standard)
        at_fixed = sum(
            nab.raw_at_threshold(f, s, standard, fixed) for f, s in zip(files, scores, strict=True)
        )
        fixed_text = f"{nab.normalise(files, at_fixed, standard):15.2f}" if "ours" in name else ""
        print(f"{name:<34}{swept.normalised:10.2f}{fixed_text}")
    ours = detectors["adaptive (ours)"]
    threshold = nab.score_corpus(files, ours, standard).threshold
    print(f"\nours per kind at the swept threshold {threshold:.4f} (AWS threshold {fixed:.4f}):")
    _per_kind(generated, ours, threshold)
    print(f"command: {COMMAND} --seed {args.seed} --per-kind {args.per_kind}")


def _per_kind(
    generated: Sequence[synthetic.Generated], scores: Sequence[np.ndarray], threshold: float
) -> None:
    print(f"  {'kind':<16}{'windows found':>15}{'false positives':>17}")
    for kind in synthetic.KINDS:
        found = fp = windows = 0
        for g, s in zip(generated, scores, strict=True):
            if g.kind == kind:
                got, false = _found(g.file, s, threshold)
                found, fp, windows = found + got, fp + false, windows + len(g.file.windows)
        print(f"  {kind:<16}{f'{found}/{windows}':>15}{fp:>17}")


if __name__ == "__main__":
    main()
