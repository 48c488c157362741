"""NAB table: the adaptive detector on real AWS CloudWatch metrics, beside published detectors.

Command::

    .venv/bin/python -m tests.bench.bench_nab

Data: ``$NAB_DIR`` (default ``../shared/data/nab`` next to the repository), the
``realAWSCloudwatch`` subset of the Numenta Anomaly Benchmark; see its README.md.

Ours is scored by running ``python -m lib.detect score FILE`` on every file as a subprocess,
with the product's default configuration: one configuration for every file, no labels, no
look-ahead. Beside it: the two naive baselines of ``tests/bench/baselines.py`` and every
published detector under ``baselines/``. Each row is normalised NAB score per profile with
the threshold swept over the corpus (``tests/bench/nab.py``).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.bench import baselines, nab

REPO = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m tests.bench.bench_nab"
OURS = "adaptive (ours, via CLI)"


def nab_dir() -> Path:
    return Path(os.environ.get("NAB_DIR", REPO.parent / "shared" / "data" / "nab")).resolve()


def score_with_cli(path: Path) -> np.ndarray:
    """Scores of ``path`` as printed by ``python -m lib.detect score``."""
    done = subprocess.run(
        [sys.executable, "-m", "lib.detect", "score", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = done.stdout.splitlines()[1:]
    return np.array([float(row.rsplit(",", 1)[1]) for row in rows])


def _ours(data: Path, files: list[nab.LabelledFile]) -> list[np.ndarray]:
    return [score_with_cli(data / "data" / nab.CATEGORY / f"{f.name}.csv") for f in files]


def _naive(
    detector: Callable[[np.ndarray], np.ndarray], files: list[nab.LabelledFile]
) -> list[np.ndarray]:
    return [detector(f.values) for f in files]


def main() -> None:
    data = nab_dir()
    files = nab.load_corpus(data)
    started = time.perf_counter()
    detectors = {OURS: _ours(data, files)}
    ours_s = time.perf_counter() - started
    detectors["static 80/90 (value as-is)"] = _naive(baselines.static_thresholds, files)
    detectors["mean ± 2σ, previous 288 samples"] = _naive(baselines.mean_2sigma, files)
    for published in sorted(p.name for p in (data / "baselines").iterdir() if p.is_dir()):
        detectors[f"{published} (published)"] = nab.load_detector(data, published, files)

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
    print(f"command: {COMMAND}   (NAB_DIR={data})")
    print(f"commit: {_commit()}  python {platform.python_version()}  numpy {np.__version__}")


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
