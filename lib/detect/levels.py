"""The one mapping from anomaly score to alert level; the alert pipeline reads it from here.

Scores lie in [0, 1]: 0 is normal, 1 certainly anomalous.

============  ==========  ==============================================================
score         level       meaning
============  ==========  ==============================================================
< 0.5         normal      inside the warning band (0.5 × (distance / band distance)²)
>= 0.5        warning     beyond the warning band, or past a warning floor
>= 0.8        critical    beyond the critical band, or past a critical floor
============  ==========  ==============================================================

Hysteresis: an alert opens at ``WARNING`` and should close only once the score has fallen
below ``CLEAR``. A detection repeated within the detector's hold (the same episode, no stronger
than the one that fired) is reported as ``HELD``: above ``CLEAR``, so an open alert stays open,
below ``WARNING``, so no new alert opens.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "CLEAR",
    "CRITICAL",
    "HELD",
    "WARNING",
    "Level",
    "beyond_warning",
    "level_of",
    "levels_of",
]

WARNING = 0.5
CRITICAL = 0.8
CLEAR = 0.3
HELD = 0.45


class Level(IntEnum):
    NORMAL = 0
    WARNING = 1
    CRITICAL = 2


def level_of(score: float) -> Level:
    if score >= CRITICAL:
        return Level.CRITICAL
    if score >= WARNING:
        return Level.WARNING
    return Level.NORMAL


def levels_of(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """``Level`` values of an array of scores, same shape."""
    return (np.asarray(scores) >= WARNING).astype(np.int8) + (np.asarray(scores) >= CRITICAL)


def beyond_warning(
    strength: npt.NDArray[np.float64], critical_stretch: float
) -> npt.NDArray[np.float64]:
    """Score of a detector strength at or beyond its warning band (strength >= 1): ``WARNING``
    at 1, ``CRITICAL`` at ``1 + critical_stretch``, then towards 1."""
    steep = math.log((1.0 - WARNING) / (1.0 - CRITICAL)) / critical_stretch
    return 1.0 - (1.0 - WARNING) * np.exp(-steep * (np.asarray(strength) - 1.0))
