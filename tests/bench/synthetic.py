"""NAB-format series of kinds the AWS files lack, generated from a seed, with labelled windows.

Normal behaviour (the base of every file, each trait drawn from the seed):

- a level at a random scale, from 1e-3 to 1e6, with AR(1) noise and a slow drift;
- optionally a daily rise: a raised-cosine bump of 4 to 10 hours at a fixed hour, as business
  hours or nightly batch jobs make, and, on files spanning two weeks or more, optionally a
  weekly shape on top of it (the rise only a fraction as high on Saturdays and Sundays);
- optionally quantised values, rounded to a step of 1, 2 or 5 times a power of ten, as
  counters and percentages often are;
- optionally rare benign spikes, isolated and normal in this series (never inside a window);
- optionally irregular sampling: every timestamp jittered by a few percent of the interval,
  and a few gaps of 3 to 12 intervals (missing rows).

Anomalies, up to two of one kind per file, all after the probationary period:

- ``spike``, ``dip``: one row far above or below;
- ``level_shift``: the level moves and stays; ``trend_change``: it ramps away over 100 rows
  and stays (a second shift or ramp moves on from where the first left the level);
- ``variance_burst``: 100 rows of much larger noise; ``stuck``: 200 rows holding one value;
- ``missing_peak``: on one weekday the daily rise does not happen (a job that did not run,
  traffic that did not come); labelled where the rise should have reached a quarter of its height;
- ``flat_middle``: from the start of a day's rise the series holds a constant mid-range value
  (the middle of the previous day's range) for a day, without noise, where it should keep moving
  with its daily shape: a collector repeating a cached or interpolated value;
- ``shifted_peak``: one day's rise comes 4 to 12 hours late (a cron job or time-zone mistake);
  labelled, like the missing peak, where the rise should have been;
- ``spike_frequency``: spikes of the size that is normal in this series when rare (one every
  few hundred rows) come every 6 to 15 rows for 150 rows;
- ``slow_drift``: the level ramps away over 200 to 450 rows and stays (a leak, a filling disk);
  labelled where the drift reaches 2.5 noise sd, as a person reading the plot would mark it.

The daily kinds always have a daily rise; ``spike_frequency`` always has its rare spikes. Files
of kind ``none`` have no anomaly and no window: any detection in them is a false positive.
Sampling intervals: 1 minute, 5 minutes, 1 hour. Windows follow NAB's rule: ``10 %`` of the rows
shared between the file's anomalies, centred on each.

Nothing here was used to choose the detector's parameters: it is a check of the general case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tests.bench import nab

F64 = npt.NDArray[np.float64]

KINDS = (
    "spike",
    "dip",
    "level_shift",
    "trend_change",
    "variance_burst",
    "stuck",
    "missing_peak",
    "flat_middle",
    "shifted_peak",
    "spike_frequency",
    "slow_drift",
)
NONE = "none"
DAILY_KINDS = frozenset({"missing_peak", "flat_middle", "shifted_peak"})
INTERVALS_S = (60, 300, 3600)
ROWS = 4000
ANOMALIES = 2
SPACING = 400  # rows between two anomalies of a file, so that their windows never touch
START = np.datetime64("2024-03-01T00:00:00", "s")
DAY_S = 86_400
WEEKLY_MIN_DAYS = 14  # a file must span two weeks to carry a weekly shape


@dataclass(frozen=True)
class Shape:
    """What is normal in one file, in the units of its values."""

    level: float
    sigma: float
    phi: float
    drift: float
    daily: float  # height of the daily rise, 0: none
    peak_hour: float
    width_h: float
    weekend: float  # the rise on Saturdays and Sundays as a fraction of a weekday's; 1: no week
    step: float  # quantisation step, 0: not quantised
    spike_rate: float  # benign spikes per row, 0: none
    jitter: float  # timestamp jitter as a fraction of the interval
    gaps: int  # runs of missing rows


@dataclass(frozen=True)
class Generated:
    """One generated file: its labels for scoring, and how it was made."""

    file: nab.LabelledFile
    kind: str
    interval_s: int
    timestamps_s: F64
    shape: Shape


def _nice(value: float) -> float:
    """The closest of 1, 2 or 5 times a power of ten below ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    return power * max(m for m in (1.0, 2.0, 5.0) if m * power <= value)


def draw_shape(rng: np.random.Generator, kind: str, interval_s: int) -> Shape:
    """The normal traits of one file; daily kinds always rise daily, ``spike_frequency``
    always has rare spikes."""
    scale = 10.0 ** rng.uniform(-3, 6)
    sigma = scale * rng.uniform(0.02, 0.1)
    daily_kind = kind in DAILY_KINDS
    daily = 0.0
    if daily_kind or rng.random() < 0.6:
        daily = sigma * (rng.uniform(4, 10) if daily_kind else rng.uniform(2, 8))
    weekly = daily > 0 and ROWS * interval_s >= WEEKLY_MIN_DAYS * DAY_S and rng.random() < 0.5
    irregular = rng.random() < 0.4
    return Shape(
        level=scale * rng.uniform(1, 5),
        sigma=sigma,
        phi=rng.uniform(0.0, 0.8),
        drift=rng.uniform(-1, 1) * sigma,
        daily=daily,
        peak_hour=rng.uniform(0, 24),
        width_h=rng.uniform(4, 10),
        weekend=rng.uniform(0.1, 0.5) if weekly else 1.0,
        step=_nice(sigma * 10.0 ** rng.uniform(-1, 0.2)) if rng.random() < 0.4 else 0.0,
        spike_rate=1 / rng.uniform(300, 800)
        if kind == "spike_frequency" or rng.random() < 0.4
        else 0.0,
        jitter=rng.uniform(0.05, 0.2) if irregular else 0.0,
        gaps=int(rng.integers(2, 6)) if irregular else 0,
    )


def timestamps(rng: np.random.Generator, shape: Shape, interval_s: int) -> F64:
    """``ROWS`` epoch seconds at ``interval_s``, jittered and with ``shape.gaps`` runs missing."""
    steps = np.full(ROWS - 1, float(interval_s))
    at = rng.choice(ROWS - 1, shape.gaps, replace=False)
    steps[at] *= rng.integers(4, 14, shape.gaps)  # 3 to 12 intervals missing
    t = START.astype(np.int64) + np.concatenate(([0.0], np.cumsum(steps)))
    reach = int(shape.jitter * interval_s)
    if reach:
        t[1:] += rng.integers(-reach, reach + 1, ROWS - 1)
    return t


def _weekday(t_s: F64) -> npt.NDArray[np.bool_]:
    return (t_s // DAY_S + 3) % 7 < 5  # 1970-01-01 was a Thursday


def _bump(shape: Shape, t_s: F64, centre_s: F64 | float) -> F64:
    """The daily rise around ``centre_s`` (a raised cosine ``width_h`` wide), 0 elsewhere."""
    u = (t_s - centre_s) / (3600 * shape.width_h)
    factor = np.where(_weekday(t_s), 1.0, shape.weekend)
    return np.where(np.abs(u) < 0.5, np.cos(np.pi * u) ** 2, 0.0) * shape.daily * factor


def _centre(shape: Shape, t_s: F64) -> F64:
    """The time of the nearest daily peak of every row."""
    day = np.round((t_s - shape.peak_hour * 3600) / DAY_S)
    return day * DAY_S + shape.peak_hour * 3600


def base(rng: np.random.Generator, shape: Shape, t_s: F64) -> F64:
    """Level, drift, daily and weekly shape, and AR(1) noise, at the given times."""
    shocks = rng.standard_normal(t_s.size) * shape.sigma * math.sqrt(1 - shape.phi**2)
    noise = np.empty(t_s.size)
    noise[0] = shocks[0]
    for i in range(1, t_s.size):
        noise[i] = shape.phi * noise[i - 1] + shocks[i]
    drift = shape.drift * (t_s - t_s[0]) / (t_s[-1] - t_s[0])
    return shape.level + drift + _bump(shape, t_s, _centre(shape, t_s)) + noise


def _pick(rng: np.random.Generator, candidates: npt.NDArray[np.int64]) -> list[int]:
    """Up to ``ANOMALIES`` of ``candidates`` at least ``SPACING`` rows apart, sorted."""
    chosen: list[int] = []
    for c in rng.permutation(candidates):
        if len(chosen) == ANOMALIES:
            break
        if all(abs(int(c) - other) >= SPACING for other in chosen):
            chosen.append(int(c))
    return sorted(chosen)


def _daily_sites(shape: Shape, t_s: F64, first: int) -> tuple[list[int], F64]:
    """Rows where each usable day's rise reaches a quarter of its height, and the day's peak."""
    days = np.arange(t_s[0] // DAY_S - 1, t_s[-1] // DAY_S + 2)
    centres = days * DAY_S + shape.peak_hour * 3600
    if shape.weekend != 1.0:
        centres = centres[_weekday(centres)]
    # cos² reaches 1/4 a third of the width before the peak.
    rows = np.searchsorted(t_s, centres - shape.width_h * 3600 / 3)
    ok = (rows >= first) & (rows <= ROWS - 300)
    return rows[ok].tolist(), centres[ok]


def _spikes(rng: np.random.Generator, shape: Shape, rows: npt.NDArray[np.int64]) -> F64:
    return rng.uniform(4, 8, rows.size) * shape.sigma


def _inject(
    rng: np.random.Generator,
    x: F64,
    kind: str,
    at: int,
    end: int,
    shape: Shape,
    t_s: F64,
    centre: float,
) -> int:
    """Change ``x`` from row ``at`` (before ``end``); return the row the window centres on."""
    sigma = shape.sigma
    size = rng.uniform(6, 10) * sigma
    if kind == "spike":
        x[at] += size
    elif kind == "dip":
        x[at] -= size
    elif kind == "level_shift":
        x[at:] += rng.choice([-1, 1]) * 0.6 * size
    elif kind == "trend_change":
        x[at:] += rng.choice([-1, 1]) * size * np.minimum(np.arange(x.size - at) / 100.0, 1.0)
    elif kind == "variance_burst":
        span = min(100, end - at)
        x[at : at + span] += rng.standard_normal(span) * 4 * sigma
    elif kind == "stuck":
        span = min(200, end - at)
        x[at : at + span] = x[at]
    elif kind == "missing_peak":
        x -= _bump(shape, t_s, centre)
    elif kind == "shifted_peak":
        late = 3600 * rng.uniform(4, min(12.0, 24 - shape.width_h))
        x += _bump(shape, t_s, centre + late) - _bump(shape, t_s, centre)
    elif kind == "flat_middle":
        day = max(48, int(np.searchsorted(t_s, t_s[at] + DAY_S)) - at)
        before = x[max(0, at - day) : at]
        span = min(day, end - at)
        x[at : at + span] = (np.min(before) + np.max(before)) / 2
    elif kind == "spike_frequency":
        rows = at + np.cumsum(np.concatenate(([0], rng.integers(6, 16, 30))))
        rows = rows[rows < min(at + 150, end)]
        x[rows] += _spikes(rng, shape, rows)
    elif kind == "slow_drift":
        length = rng.uniform(200, 450)
        x[at:] += rng.choice([-1, 1]) * size * np.minimum(np.arange(x.size - at) / length, 1.0)
        return at + int(np.ceil(length * 2.5 * sigma / size))
    return at


def _file(rng: np.random.Generator, kind: str, interval: int, name: str) -> Generated:
    shape = draw_shape(rng, kind, interval)
    t_s = timestamps(rng, shape, interval)
    x = base(rng, shape, t_s)
    first = nab.probation_rows(ROWS) + 200
    if kind == NONE:
        spots, centres = [], np.empty(0)
    elif kind in DAILY_KINDS:
        rows, all_centres = _daily_sites(shape, t_s, first)
        spots = _pick(rng, np.asarray(rows, dtype=np.int64))
        centres = all_centres[np.searchsorted(rows, spots)]
    else:
        spots = _pick(rng, np.arange(first, ROWS - 300))
        centres = np.zeros(len(spots))
    labels = []
    for j, at in enumerate(spots):
        end = spots[j + 1] if j + 1 < len(spots) else ROWS
        labels.append(_inject(rng, x, kind, at, end, shape, t_s, float(centres[j])))
    half = int(0.1 * ROWS / len(labels)) // 2 if labels else 0
    windows = tuple((a - half, a + half) for a in labels)
    if shape.spike_rate:
        # Benign spikes stay clear of every window and of values held by stuck or flat rows.
        clear = np.ones(ROWS, dtype=bool)
        for lo, hi in windows:
            clear[lo : hi + 1] = False
        held = np.diff(x) == 0
        clear[1:] &= ~held
        clear[:-1] &= ~held
        rows = np.flatnonzero((rng.random(ROWS) < shape.spike_rate) & clear)
        x[rows] += _spikes(rng, shape, rows)
    if shape.step:
        x = np.round(x / shape.step) * shape.step
    stamps = t_s.astype(np.int64).astype("datetime64[s]")
    return Generated(nab.LabelledFile(name, stamps, x, windows), kind, interval, t_s, shape)


def generate(seed: int = 29, per_kind: int = 3) -> list[Generated]:
    """``per_kind`` files of every kind and ``per_kind`` without anomaly, each at one of the
    intervals in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for kind in (*KINDS, NONE):
        for k in range(per_kind):
            interval = INTERVALS_S[k % len(INTERVALS_S)]
            out.append(_file(rng, kind, interval, f"{kind}_{interval}s_{k}"))
    return out
