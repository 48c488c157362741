"""NAB scoring (Numenta Anomaly Benchmark), written from its published description.

How a detector's scores become one number per application profile:

- Each row of a file is a detection when its score is at or above the threshold. The first
  ``min(floor(0.15 * rows), 750)`` rows are a probationary period and do not count at all.
- Inside a labelled window only the earliest detection counts, worth ``A_TP`` times a scaled
  sigmoid of its position (``1.0`` at the window's first row, falling towards ``0`` at its end);
  a window with no detection costs ``A_FN``.
- A detection outside every window costs ``A_FP`` weighted by a scaled sigmoid of its distance
  after the preceding window, in units of that window's length (just after: almost nothing;
  three lengths or more away, or before any window: a full ``A_FP``).
- The threshold is swept over every distinct score and the one with the highest raw sum over
  the whole corpus wins; the raw sum is normalised to ``100 * (raw - null) / (perfect - null)``
  where ``null`` detects nothing and ``perfect`` detects every window at its first row.

The data layout is the one of ``/work/shared/data/nab`` (see its README): ``data/<category>/*.csv``
with ``timestamp,value``, ``labels/combined_windows.json``, ``baselines/<detector>/<file>.csv``
with ``timestamp,anomaly_score``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

CATEGORY = "realAWSCloudwatch"
PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", tp=1.0, fp=0.11, fn=1.0),
    Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
)


@dataclass(frozen=True)
class LabelledFile:
    """One data file with its anomaly windows as inclusive row ranges."""

    name: str
    timestamps: npt.NDArray[np.datetime64]
    values: npt.NDArray[np.float64]
    windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class CorpusScore:
    """A detector's result for one profile: normalised score, best threshold, raw sum."""

    normalised: float
    threshold: float
    raw: float


def _parse_times(texts: list[str]) -> npt.NDArray[np.datetime64]:
    return np.array([t.strip().replace(" ", "T") for t in texts], dtype="datetime64[s]")


def read_two_columns(path: Path) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    """Read a NAB CSV (a header, then ``timestamp,<number>`` rows)."""
    lines = path.read_text().splitlines()[1:]
    stamps, numbers = zip(*(line.split(",", 1) for line in lines if line), strict=True)
    return _parse_times(list(stamps)), np.array(numbers, dtype=np.float64)


def load_corpus(nab_dir: Path) -> list[LabelledFile]:
    """Every data file of the category with its windows, sorted by name."""
    windows = json.loads((nab_dir / "labels" / "combined_windows.json").read_text())
    files = []
    for path in sorted((nab_dir / "data" / CATEGORY).glob("*.csv")):
        stamps, values = read_two_columns(path)
        ranges = []
        for start, end in windows[f"{CATEGORY}/{path.name}"]:
            lo, hi = _parse_times([start, end])
            ranges.append(
                (
                    int(np.searchsorted(stamps, lo, side="left")),
                    int(np.searchsorted(stamps, hi, side="right")) - 1,
                )
            )
        files.append(LabelledFile(path.stem, stamps, values, tuple(ranges)))
    return files


def load_detector(nab_dir: Path, detector: str, files: list[LabelledFile]) -> list[np.ndarray]:
    """A published detector's scores for each file, in the order of ``files``."""
    scores = []
    for f in files:
        stamps, values = read_two_columns(nab_dir / "baselines" / detector / f"{f.name}.csv")
        if not np.array_equal(stamps, f.timestamps):
            raise ValueError(f"{detector}/{f.name}: timestamps differ from the data file")
        scores.append(values)
    return scores


def probation_rows(n_rows: int) -> int:
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS)


def scaled_sigmoid(position: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``2 * sigmoid(-5 x) - 1``, and exactly ``-1`` beyond three window lengths."""
    return np.where(position > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0)


@dataclass(frozen=True)
class _Rows:
    """Scorable rows of one file: their weight if detected and their window (-1: none)."""

    weight: npt.NDArray[np.float64]
    window: npt.NDArray[np.int64]
    keep: npt.NDArray[np.bool_]


def _row_weights(n_rows: int, windows: tuple[tuple[int, int], ...], profile: Profile) -> _Rows:
    idx = np.arange(n_rows, dtype=np.float64)
    weight = np.full(n_rows, -profile.fp)
    window = np.full(n_rows, -1, dtype=np.int64)
    max_tp = float(scaled_sigmoid(np.array([-1.0]))[0])
    for w, (lo, hi) in enumerate(windows):
        width = hi - lo + 1
        inside = slice(lo, hi + 1)
        weight[inside] = scaled_sigmoid(-(hi - idx[inside] + 1) / width) * profile.tp / max_tp
        window[inside] = w
        after_end = windows[w + 1][0] if w + 1 < len(windows) else n_rows
        after = slice(hi + 1, after_end)
        # A one-row window has no length to measure distance in: every later FP is full cost.
        distance = (
            (idx[after] - hi) / (width - 1) if width > 1 else np.full(after_end - hi - 1, 4.0)
        )
        weight[after] = scaled_sigmoid(distance) * profile.fp
    keep = idx >= probation_rows(n_rows)
    return _Rows(weight, window, keep)


def _raw_by_threshold(
    files: Sequence[LabelledFile], scores: Sequence[npt.ArrayLike], profile: Profile
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Raw corpus score at every candidate threshold; also the null (nothing detected) score."""
    all_scores, all_weights, all_windows = [], [], []
    n_windows = 0
    for f, s in zip(files, scores, strict=True):
        rows = _row_weights(len(f.values), f.windows, profile)
        all_scores.append(np.asarray(s, dtype=np.float64)[rows.keep])
        all_weights.append(rows.weight[rows.keep])
        win = rows.window[rows.keep]
        all_windows.append(np.where(win >= 0, win + n_windows, -1))
        n_windows += len(f.windows)
    score = np.concatenate(all_scores)
    weight = np.concatenate(all_weights)
    window = np.concatenate(all_windows)
    order = np.argsort(-score, kind="stable")
    score, weight, window = score[order], weight[order], window[order]

    # Going down the sorted rows, each row adds what it changes to the total: an FP its weight,
    # a window row the rise (if any) of its window's best weight so far over the FN it replaces.
    gain = np.where(window < 0, weight, 0.0)
    for w in np.unique(window[window >= 0]):
        at = np.flatnonzero(window == w)
        best = np.maximum.accumulate(np.concatenate(([-profile.fn], weight[at])))
        gain[at] = np.diff(best)
    null = -profile.fn * n_windows
    total = null + np.cumsum(gain)
    # A threshold admits every row scoring at or above it: read the total at each group's end.
    last_of_group = np.append(score[1:] != score[:-1], True)
    return score[last_of_group], total[last_of_group], null


def normalise(files: Sequence[LabelledFile], raw: float, profile: Profile) -> float:
    """``100 * (raw - null) / (perfect - null)`` over ``files``."""
    n_windows = sum(len(f.windows) for f in files)
    null, perfect = -profile.fn * n_windows, profile.tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def raw_at_threshold(
    file: LabelledFile, scores: npt.ArrayLike, profile: Profile, threshold: float
) -> float:
    """Raw NAB sum of one file when every row scoring at or above ``threshold`` is a detection."""
    thresholds, totals, null = _raw_by_threshold([file], [scores], profile)
    admitted = np.flatnonzero(thresholds >= threshold)
    return float(totals[admitted[-1]]) if admitted.size else null


def detections(file: LabelledFile, scores: npt.ArrayLike, threshold: float) -> tuple[int, int]:
    """Windows with a detection, and detections outside every window, after probation."""
    hit = np.asarray(scores) >= threshold
    hit[: probation_rows(len(hit))] = False
    inside = np.zeros(len(hit), dtype=bool)
    found = 0
    for lo, hi in file.windows:
        inside[lo : hi + 1] = True
        found += bool(hit[lo : hi + 1].any())
    return found, int((hit & ~inside).sum())


def normalised_at(
    files: Sequence[LabelledFile],
    scores: Sequence[npt.ArrayLike],
    profile: Profile,
    thresholds: Sequence[float],
) -> list[float]:
    """Normalised score over ``files`` at each of ``thresholds`` (no sweep)."""
    swept, totals, null = _raw_by_threshold(files, scores, profile)
    result = []
    for threshold in thresholds:
        admitted = np.flatnonzero(swept >= threshold)
        raw = float(totals[admitted[-1]]) if admitted.size else null
        result.append(normalise(files, raw, profile))
    return result


def score_corpus(
    files: Sequence[LabelledFile], scores: Sequence[npt.ArrayLike], profile: Profile
) -> CorpusScore:
    """Best normalised score over all thresholds for one detector and profile."""
    thresholds, totals, null = _raw_by_threshold(files, scores, profile)
    perfect = profile.tp * sum(len(f.windows) for f in files)
    best = int(np.argmax(totals))
    if totals[best] <= null:
        return CorpusScore(0.0, math.inf, null)
    raw = float(totals[best])
    return CorpusScore(100.0 * (raw - null) / (perfect - null), float(thresholds[best]), raw)
