"""What the adaptive detector is told: global hyperparameters and per-series configuration.

``Params`` is one configuration shared by every series, product fleet and benchmarks alike; its
defaults are the configuration the product runs. ``SeriesConfig`` is what differs per series
(server × metric): which direction is anomalous and the absolute floors that hold whatever the
history. ``SeriesConfigs`` is the same, column-wise, for ``S`` series at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from enum import IntFlag
from typing import Any

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError

__all__ = [
    "DEFAULT_PARAMS",
    "Direction",
    "Params",
    "SeriesConfig",
    "SeriesConfigs",
    "with_overrides",
]


class Direction(IntFlag):
    """Which departures are anomalous: above the baseline, below it, or both."""

    HIGH = 1
    LOW = 2
    BOTH = 3


@dataclass(frozen=True)
class Params:
    """Hyperparameters of the adaptive detector. Rates and lengths are per sample.

    The values were tuned once on the NAB AWS CloudWatch files (tests/bench/bench_nab.py) and are
    used unchanged for every series.
    """

    level_rate: float = 0.02
    """EW rate of the robust baseline and its spread (about 50 samples of memory)."""
    winsor: float = 3.0
    """Residuals are clipped at ``winsor`` spreads before they teach the baseline."""
    trend_rate: float = 0.01
    """EW rate of the baseline's slope."""
    trend_horizon: float = 5.0
    """Samples the band centre is projected along the trend (shifts both bands with it)."""
    season_slots: int = 24
    """Time-of-day slots of the season term (24: hourly)."""
    season_rate: float = 0.2
    """Fraction of an offset learned each time its slot comes round (a time of day daily, a
    weekday weekly), and the noise that learning leaves which a season must stand out from."""
    season_winsor: float = 6.0
    """Residuals are clipped at ``season_winsor`` spreads before they teach the season."""
    fast_rate: float = 0.1
    """EW rate of the short-term mean channel (sustained shifts)."""
    band_sigmas: float = 3.0
    """Statistical half-width of the warning band, in robust standard deviations."""
    envelope_margin: float = 0.025
    """How far beyond the recent extremes (as a fraction of their range) a value must go, and a
    run of repeated values beyond the longest remembered (as a fraction of it)."""
    envelope_half_life: float = 23_000.0
    """Samples for the remembered extremes to shrink halfway back to the baseline while the
    series keeps coming near them; a run of repeats rarer than once in that many samples is
    stuck."""
    envelope_near: float = 0.2
    """A value within this fraction of the extremes' range of a remembered extreme comes near it."""
    envelope_idle: float = 600.0
    """Samples an extreme is remembered without the series coming near it before it fades at
    ``envelope_fade``: a peak the series keeps reaching is its normal range, one it reached once
    and left is not."""
    envelope_fade: float = 1_000.0
    """Samples for an extreme the series has left to shrink halfway back to the baseline."""
    critical_stretch: float = 0.5
    """The critical band is ``1 + critical_stretch`` times as far from the baseline as warning."""
    hold: int = 30
    """Samples after a detection in which another fires only if further from the baseline."""
    warmup: int = 30
    """Samples learned before anything is scored."""
    refresh: int = 32
    """Samples between refreshes of the clipping bounds, season offsets and envelope decay."""

    def __post_init__(self) -> None:
        # The baseline's recurrence divides by products of (1 - rate): keep them away from 0.
        _check("level_rate", self.level_rate, 0.0 < self.level_rate <= 0.5, "in (0, 0.5]")
        for name in ("trend_rate", "season_rate", "fast_rate"):
            _check(name, getattr(self, name), 0.0 < getattr(self, name) <= 1.0, "in (0, 1]")
        positive = (
            "winsor",
            "season_winsor",
            "band_sigmas",
            "envelope_half_life",
            "envelope_idle",
            "envelope_fade",
            "critical_stretch",
        )
        for name in positive:
            _check(name, getattr(self, name), getattr(self, name) > 0.0, "> 0")
        for name in ("trend_horizon", "envelope_margin", "envelope_near"):
            _check(name, getattr(self, name), getattr(self, name) >= 0.0, ">= 0")
        _check("season_slots", self.season_slots, 1 <= self.season_slots <= 1440, "in [1, 1440]")
        _check("hold", self.hold, self.hold >= 0, ">= 0")
        _check("warmup", self.warmup, self.warmup >= 1, ">= 1")
        _check("refresh", self.refresh, 1 <= self.refresh <= 256, "in [1, 256]")
        for f in fields(self):
            _check(f.name, getattr(self, f.name), math.isfinite(getattr(self, f.name)), "finite")


def _check(name: str, value: object, ok: bool, rule: str) -> None:
    if not ok:
        raise ValidationError(
            f"detector parameter {name} must be {rule}, got {value!r}", field=name
        )


DEFAULT_PARAMS = Params()


def with_overrides(pairs: Sequence[str], base: Params = DEFAULT_PARAMS) -> Params:
    """``base`` with each ``NAME=VALUE`` applied (``-`` in a name reads as ``_``); a pair that
    is not a parameter, or a value that is not one, raises naming it."""
    names = [f.name for f in fields(Params)]
    changes: dict[str, Any] = {}  # int or float, as the field is
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or name not in names:
            raise ValidationError(
                f"--param {pair!r}: expected NAME=VALUE, NAME one of {', '.join(names)}",
                field="param",
            )
        integer = isinstance(getattr(base, name), int)
        try:
            changes[name] = int(text) if integer else float(text)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise ValidationError(
                f"--param {name}: {text.strip()!r} is not {kind}", field=name
            ) from None
    return replace(base, **changes)


@dataclass(frozen=True)
class SeriesConfig:
    """Per-series configuration. A NaN floor is no floor.

    Floors are absolute: ``value >= crit_above`` is critical whatever the series' history.
    They apply on their own side whatever ``direction`` says.
    """

    direction: Direction = Direction.BOTH
    warn_above: float = math.nan
    crit_above: float = math.nan
    warn_below: float = math.nan
    crit_below: float = math.nan


@dataclass(frozen=True)
class SeriesConfigs:
    """``S`` series' configurations, column-wise.

    Attributes
    ----------
    direction : int8[S]
        ``Direction`` flags.
    floors : float64[S, 4]
        ``warn_above, crit_above, warn_below, crit_below``; NaN where there is none.
    """

    direction: npt.NDArray[np.int8]
    floors: npt.NDArray[np.float64]

    @classmethod
    def uniform(cls, n_series: int, config: SeriesConfig | None = None) -> SeriesConfigs:
        return cls.of([config or SeriesConfig()] * n_series)

    @classmethod
    def of(cls, configs: list[SeriesConfig]) -> SeriesConfigs:
        direction = np.array([int(Direction(c.direction)) for c in configs], dtype=np.int8)
        if (direction == 0).any():
            raise ValidationError("a series must watch at least one direction", field="direction")
        floors = np.array(
            [[c.warn_above, c.crit_above, c.warn_below, c.crit_below] for c in configs],
            dtype=np.float64,
        ).reshape(len(configs), 4)
        return cls(direction, floors)

    def __len__(self) -> int:
        return len(self.direction)
