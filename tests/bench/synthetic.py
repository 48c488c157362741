"""NAB-format series of kinds the AWS files lack, generated from a seed, with labelled windows.

Each series has a base (a level at a random scale, from 1e-3 to 1e6, optionally a daily shape
and a slow drift), AR(1) noise, and two anomalies of one kind placed after the probationary
period. Kinds: a spike, a dip, a level shift, a change of trend, a burst of variance, a stuck
value (flat line). Sampling intervals: 1 minute, 5 minutes, 1 hour. Windows follow NAB's rule:
``10 %`` of the rows shared between the file's anomalies, centred on each.

Nothing here was used to choose the detector's parameters: it is a check of the general case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tests.bench import nab

KINDS = ("spike", "dip", "level_shift", "trend_change", "variance_burst", "stuck")
INTERVALS_S = (60, 300, 3600)
ROWS = 4000
ANOMALIES = 2
START = np.datetime64("2024-03-01T00:00:00", "s")


@dataclass(frozen=True)
class Generated:
    """One generated file: its labels for scoring, and the sampling interval it used."""

    file: nab.LabelledFile
    kind: str
    interval_s: int
    timestamps_s: npt.NDArray[np.float64]


def _base(rng: np.random.Generator, t_s: npt.NDArray[np.float64]) -> tuple[np.ndarray, float]:
    scale = 10.0 ** rng.uniform(-3, 6)
    level = scale * rng.uniform(1, 5)
    sigma = scale * rng.uniform(0.02, 0.1)
    noise = np.empty(t_s.size)
    phi = rng.uniform(0.0, 0.8)
    shocks = rng.standard_normal(t_s.size) * sigma * math.sqrt(1 - phi * phi)
    noise[0] = shocks[0]
    for i in range(1, t_s.size):
        noise[i] = phi * noise[i - 1] + shocks[i]
    daily = rng.choice([0.0, 3.0]) * sigma * np.sin(2 * np.pi * t_s / 86_400 + rng.uniform(0, 6))
    drift = rng.uniform(-1, 1) * sigma * (t_s - t_s[0]) / (t_s[-1] - t_s[0])
    return level + daily + drift + noise, sigma


def _inject(
    rng: np.random.Generator, x: np.ndarray, kind: str, at: int, sigma: float, end: int
) -> None:
    size = rng.uniform(6, 10) * sigma
    if kind == "spike":
        x[at] += size
    elif kind == "dip":
        x[at] -= size
    elif kind == "level_shift":
        x[at:end] += rng.choice([-1, 1]) * 0.6 * size
    elif kind == "trend_change":
        ramp = np.minimum(np.arange(end - at) / 100.0, 1.0)
        x[at:end] += rng.choice([-1, 1]) * size * ramp
    elif kind == "variance_burst":
        span = min(100, end - at)
        x[at : at + span] += rng.standard_normal(span) * 4 * sigma
    elif kind == "stuck":
        span = min(200, end - at)
        x[at : at + span] = x[at]


def generate(seed: int = 29, per_kind: int = 3) -> list[Generated]:
    """``per_kind`` files of every kind, each at one of the intervals in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for kind in KINDS:
        for k in range(per_kind):
            interval = INTERVALS_S[k % len(INTERVALS_S)]
            t_s = (START.astype(np.int64) + interval * np.arange(ROWS)).astype(np.float64)
            x, sigma = _base(rng, t_s)
            first = nab.probation_rows(ROWS) + 200
            spots = np.sort(rng.choice(np.arange(first, ROWS - 300, 400), ANOMALIES, replace=False))
            for j, at in enumerate(spots):
                end = int(spots[j + 1]) if j + 1 < len(spots) else ROWS
                _inject(rng, x, kind, int(at), sigma, end)
            half = int(0.1 * ROWS / ANOMALIES) // 2
            windows = tuple((int(a) - half, int(a) + half) for a in spots)
            stamps = t_s.astype(np.int64).astype("datetime64[s]")
            name = f"{kind}_{interval}s_{k}"
            out.append(Generated(nab.LabelledFile(name, stamps, x, windows), kind, interval, t_s))
    return out
