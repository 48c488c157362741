"""The two naive detectors the adaptive one is measured against (no look-ahead, scores in [0, 1]).

- ``static_thresholds``: the product's non-adaptive mode, warning at 80 and critical at 90,
  applied to the value as it is. On percentage series (CPU utilisation) that is the usual
  rule; on bytes or request counts it is what a fixed 80/90 rule does to such a metric (nearly
  always critical, or never), and we report it as such rather than invent a per-series scale,
  which would be a learned threshold, not a static one.
- ``mean_2sigma``: mean ± 2σ of the previous ``window`` samples. The score is ``|z| / 4``
  capped at 1, so the 2σ band is score 0.5 (warning); NAB's threshold sweep is free to settle
  on another multiple of σ, which only helps this baseline.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from lib.detect.levels import CRITICAL, WARNING

F64 = npt.NDArray[np.float64]

STATIC_WARNING = 80.0
STATIC_CRITICAL = 90.0
WINDOW = 288  # one day of 5-minute samples


def static_thresholds(values: F64) -> F64:
    """``CRITICAL`` at or above 90, ``WARNING`` at or above 80, else 0."""
    return np.where(
        values >= STATIC_CRITICAL, CRITICAL, np.where(values >= STATIC_WARNING, WARNING, 0.0)
    )


def mean_2sigma(values: F64, window: int = WINDOW) -> F64:
    """``min(1, |z| / 4)`` against the mean and sd of the previous ``window`` samples."""
    x = np.asarray(values, dtype=np.float64)
    # Sums over the previous ``window`` rows (row i sees rows i-window .. i-1), from cumsums
    # of values shifted to their first one so that large offsets do not eat the precision.
    shifted = x - x[0] if x.size else x
    s1 = np.concatenate(([0.0], np.cumsum(shifted)))
    s2 = np.concatenate(([0.0], np.cumsum(shifted * shifted)))
    i = np.arange(x.size)
    lo = np.maximum(i - window, 0)
    n = i - lo
    # A window of one repeated value is told apart exactly (its highest equals its lowest):
    # from the cumsums its mean and variance carry rounding left over from every earlier row,
    # which would make each row of a flat stretch an infinitely far outlier of itself.
    padded = np.concatenate((np.full(window, shifted[0] if x.size else 0.0), shifted))
    previous = sliding_window_view(padded, window)[: x.size]
    flat = previous.max(axis=1) == previous.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(flat, previous[:, -1], (s1[i] - s1[lo]) / n)
        var = np.where(flat, 0.0, np.maximum((s2[i] - s2[lo]) / n - mean * mean, 0.0))
        z = np.abs(shifted - mean) / np.sqrt(var)
    # Fewer than two earlier samples, or none that differ: no opinion yet; any change from a
    # perfectly flat window is as far out as it gets.
    z = np.where(var > 0, z, np.where(np.abs(shifted - mean) > 0, np.inf, 0.0))
    return np.where(n >= 2, np.minimum(z / 4.0, 1.0), 0.0)
