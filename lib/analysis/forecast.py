"""Forecasts from a least-squares line: values h buckets ahead with a prediction interval, and
the time until a series reaches a threshold (disk_pct reaching 100 %: time to full).

A line fitted on the recent window is the model: it is what an operator reads off a chart,
it is exact on a linear series, and the interval has a closed form
``yhat ± t(n-2) · s · sqrt(1 + 1/n + (x0 - mean(x))² / Sxx)``. The Student-t quantile comes
from the standard library's normal quantile with a Cornish–Fisher expansion (exact for 1
and 2 degrees of freedom), so no SciPy is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import FloatArray
from lib.analysis.trends import HOUR_S, fit_lines
from lib.errors import ValidationError


@dataclass(frozen=True)
class Forecast:
    """Point forecast and prediction interval, each ``float64[H, K]`` for steps ``1..H``."""

    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float


def t_quantile(p: float, dof: int) -> float:
    """Quantile ``p`` of Student's t with ``dof`` degrees of freedom (``dof >= 1``)."""
    if not 0.0 < p < 1.0 or dof < 1:
        raise ValidationError(f"need 0 < p < 1 and dof >= 1, got p={p} dof={dof}", field="p")
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    # Abramowitz & Stegun 26.7.5: relative error under 1 % from 3 degrees of freedom up
    # (for p up to 0.995), well inside what a forecast interval needs.
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / dof + g2 / dof**2 + g3 / dof**3 + g4 / dof**4


def forecast_linear(y: npt.ArrayLike, horizon: int, level: float = 0.95) -> Forecast:
    """Extend each series' fitted line ``horizon`` buckets past its last sample.

    Parameters
    ----------
    y : float[T, K]
        K series over T consecutive buckets, oldest first.
    horizon : int
        Number of steps ahead, ``H >= 1``.
    level : float
        Coverage of the prediction interval, in (0, 1).

    Returns
    -------
    Forecast
        ``mean[h - 1]`` is the forecast ``h`` buckets after the last sample. With fewer than
        three samples the residual spread is unknown and the interval has zero width; an
        empty window forecasts 0.
    """
    if horizon < 1:
        raise ValidationError(f"horizon must be >= 1, got {horizon}", field="horizon")
    if not 0.0 < level < 1.0:
        raise ValidationError(f"level must be in (0, 1), got {level}", field="level")
    fit = fit_lines(y)
    x0 = (fit.n - 1) + np.arange(1, horizon + 1, dtype=np.float64)
    mean = fit.intercept + np.outer(x0, fit.slope)
    if fit.n > 2:
        spread = np.sqrt(1.0 + 1.0 / fit.n + (x0 - fit.t_mean) ** 2 / fit.sxx)
        half = t_quantile(0.5 + level / 2, fit.n - 2) * np.outer(spread, fit.resid_std)
    else:
        half = np.zeros_like(mean)
    return Forecast(mean=mean, lower=mean - half, upper=mean + half, level=level)


def time_to_threshold(
    y: npt.ArrayLike,
    threshold: float | npt.ArrayLike,
    bucket_seconds: float,
    t_min: float = 2.0,
) -> FloatArray:
    """Hours until each series' trend line reaches ``threshold``, measured from its last sample.

    Parameters
    ----------
    y : float[T, K]
        K series over T consecutive buckets, oldest first (e.g. ``disk_pct`` of K servers).
    threshold : float or float[K]
        Level to reach (100.0 for time to full).
    bucket_seconds : float
        Length of one bucket.
    t_min : float
        A rise counts only when significant (see ``lib.analysis.trends``).

    Returns
    -------
    float64[K]
        0 where the last sample is already at or above the threshold; ``inf`` ("never", the
        array spelling of None) where the series is not significantly increasing. Never NaN.
    """
    if bucket_seconds <= 0:
        raise ValidationError("bucket_seconds must be positive", field="bucket_seconds")
    fit = fit_lines(y)
    arr = np.asarray(y, dtype=np.float64)
    k = arr.shape[1]
    limit = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (k,))
    last = arr[-1] if fit.n else np.full(k, -np.inf)
    fitted_last = fit.intercept + fit.slope * max(fit.n - 1, 0)
    rising = fit.significant(t_min) & (fit.slope > 0)
    buckets = (limit - fitted_last) / np.where(rising, fit.slope, 1.0)
    hours = np.maximum(buckets, 0.0) * bucket_seconds / HOUR_S
    return np.where(last >= limit, 0.0, np.where(rising, hours, np.inf))
