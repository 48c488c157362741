"""Least-squares linear trends of many series at once, labelled increasing/decreasing/stable.

Time runs in bucket steps: sample ``t`` of a window is at ``x = t`` buckets, so a slope per
bucket becomes a slope per hour by ``3600 / bucket_seconds``.

Significance rule: a trend is labelled increasing or decreasing only when both

- its t-statistic ``|slope| / stderr(slope)`` is at least ``t_min`` (2.0 ≈ 95 % for windows
  of a few dozen samples), so noise is not read as a trend; and
- ``|slope_per_hour| >= min_slope_per_hour`` (in the series' unit), so a real but tiny drift
  is not worth a word.

A change over the whole window below 1e-9 of the series' magnitude is rounding noise and
counts as no slope at all, so a constant series is stable with slope 0 and r² 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import FloatArray, as_series_matrix
from lib.errors import ValidationError

HOUR_S = 3600.0
TREND_NAMES = {-1: "decreasing", 0: "stable", 1: "increasing"}


@dataclass(frozen=True)
class LineFit:
    """Least-squares lines ``y = intercept + slope * t`` over ``t = 0..n-1``, one per series.

    Every array is ``float64[K]``. ``resid_std`` is the residual standard deviation with
    ``n - 2`` degrees of freedom (0 when ``n <= 2``); ``sxx`` is ``sum((t - mean(t))**2)``.
    """

    slope: FloatArray
    intercept: FloatArray
    r2: FloatArray
    resid_std: FloatArray
    n: int
    sxx: float

    @property
    def t_mean(self) -> float:
        return (self.n - 1) / 2.0 if self.n else 0.0

    def significant(self, t_min: float) -> npt.NDArray[np.bool_]:
        """Series whose slope is at least ``t_min`` standard errors away from 0."""
        # |slope| / (s / sqrt(sxx)) >= t_min, written without dividing by a zero s.
        significant: npt.NDArray[np.bool_] = (self.slope != 0.0) & (
            np.abs(self.slope) * np.sqrt(self.sxx) >= t_min * self.resid_std
        )
        return significant


@dataclass(frozen=True)
class Trends:
    """Per-series trend: slope per hour, r², and a label (-1, 0, +1; see ``TREND_NAMES``)."""

    slope_per_hour: FloatArray
    r2: FloatArray
    label: npt.NDArray[np.int8]

    @property
    def names(self) -> list[str]:
        """The labels as words: ``increasing``, ``decreasing`` or ``stable``."""
        return [TREND_NAMES[int(v)] for v in self.label]


def fit_lines(y: npt.ArrayLike) -> LineFit:
    """Fit one least-squares line per column of ``y`` (``float[T, K]``), vectorised.

    Fewer than two samples give slope 0 and the mean (or 0) as intercept.
    """
    arr = as_series_matrix(y, "y")
    n, k = arr.shape
    t = np.arange(n, dtype=np.float64)
    t_mean = (n - 1) / 2.0 if n else 0.0
    sxx = float(((t - t_mean) ** 2).sum())
    y_mean = arr.mean(axis=0) if n else np.zeros(k)
    yc = arr - y_mean
    slope = (t - t_mean) @ yc / sxx if sxx else np.zeros(k)
    scale = np.abs(arr).max(axis=0, initial=0.0)
    slope = np.where(np.abs(slope) * max(n - 1, 1) <= 1e-9 * scale, 0.0, slope)
    resid = yc - np.outer(t - t_mean, slope)
    sse = (resid**2).sum(axis=0)
    sst = (yc**2).sum(axis=0)
    flat = sst <= (1e-9 * scale) ** 2 * max(n, 1)
    r2 = np.where(flat, 0.0, np.clip(1.0 - sse / np.where(flat, 1.0, sst), 0.0, 1.0))
    resid_std = np.sqrt(sse / (n - 2)) if n > 2 else np.zeros(k)
    return LineFit(
        slope=slope,
        intercept=y_mean - slope * t_mean,
        r2=r2,
        resid_std=resid_std,
        n=n,
        sxx=sxx,
    )


def linear_trends(
    y: npt.ArrayLike,
    bucket_seconds: float,
    t_min: float = 2.0,
    min_slope_per_hour: float | npt.ArrayLike = 0.0,
) -> Trends:
    """Trend of each series over the window, with the module's significance rule.

    Parameters
    ----------
    y : float[T, K]
        K series over T consecutive buckets, oldest first.
    bucket_seconds : float
        Length of one bucket.
    t_min : float
        Smallest t-statistic labelled as a trend.
    min_slope_per_hour : float or float[K]
        Smallest slope labelled as a trend, in the unit of each series per hour.

    Returns
    -------
    Trends
        Arrays of shape ``[K]``; never NaN.
    """
    if bucket_seconds <= 0:
        raise ValidationError("bucket_seconds must be positive", field="bucket_seconds")
    fit = fit_lines(y)
    per_hour = fit.slope * (HOUR_S / bucket_seconds)
    big_enough = np.abs(per_hour) >= np.asarray(min_slope_per_hour, dtype=np.float64)
    label = np.where(fit.significant(t_min) & big_enough, np.sign(per_hour), 0.0)
    return Trends(slope_per_hour=per_hour, r2=fit.r2, label=label.astype(np.int8))
