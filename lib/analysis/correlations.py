"""Pearson correlations between series, plain and lagged, and the strongest pairs.

One function serves both questions: pass ``window[:, server, :]`` (``float[T, metric]``) for
the metrics of one server, or ``window[:, :, metric]`` (``float[T, server]``) for one metric
across servers. A constant series carries no information: its correlations are 0, never NaN.

Lag convention: ``lag[i, j] = L > 0`` means series ``i`` *leads* series ``j`` by ``L``
buckets, i.e. ``x_i[t]`` correlates best with ``x_j[t + L]`` — "db response_ms leads api
error_pct by 2 buckets", a hint for root cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import FloatArray, as_series_matrix, is_flat
from lib.errors import ValidationError

# Fewer overlapping samples than this and a correlation means nothing.
MIN_OVERLAP = 3


@dataclass(frozen=True)
class LaggedCorrelation:
    """Best correlation over lags per pair (``float64[K, K]``) and the lag giving it (``int64``)."""

    r: FloatArray
    lag: npt.NDArray[np.int64]


@dataclass(frozen=True)
class CorrelatedPair:
    """Two correlated series; ``leader`` moves first by ``lag_buckets`` (0: together)."""

    leader: int
    follower: int
    leader_label: str
    follower_label: str
    r: float
    lag_buckets: int

    @property
    def summary_en(self) -> str:
        a, b, r = self.leader_label, self.follower_label, f"r={self.r:+.2f}"
        if self.lag_buckets:
            unit = "bucket" if self.lag_buckets == 1 else "buckets"
            return f"{a} leads {b} by {self.lag_buckets} {unit} ({r})"
        way = "together" if self.r > 0 else "in opposite directions"
        return f"{a} and {b} move {way} ({r})"

    @property
    def summary_ko(self) -> str:
        a, b, r = self.leader_label, self.follower_label, f"r={self.r:+.2f}"
        if self.lag_buckets:
            return f"{a} → {b}: {self.lag_buckets}버킷 선행 ({r})"
        way = "같은 방향" if self.r > 0 else "반대 방향"
        return f"{a} ↔ {b}: {way}으로 함께 변동 ({r})"


def _unit_columns(x: FloatArray) -> FloatArray:
    """Columns centred and scaled to unit norm; constant columns become zeros."""
    centred = x - x.mean(axis=0) if x.shape[0] else x
    # Each column over its largest deviation first: squaring tiny values (1e-158) in the norm
    # would underflow, leaving "unit" columns that are not, and correlations off by a factor.
    peak = np.abs(centred).max(axis=0, initial=0.0)
    scaled = centred / np.where(peak > 0.0, peak, 1.0)
    norm = np.linalg.norm(scaled, axis=0)
    flat = is_flat(norm * peak, x) | (x.shape[0] < MIN_OVERLAP)
    return np.where(flat, 0.0, scaled / np.where(flat, 1.0, norm))


def correlation_matrix(x: npt.ArrayLike) -> FloatArray:
    """Pearson correlation of every pair of columns.

    Parameters
    ----------
    x : float[T, K]
        K series over T buckets.

    Returns
    -------
    float64[K, K]
        Symmetric, in [-1, 1]. The diagonal is 1 for a varying series and 0 for a constant
        one; every correlation with a constant series is 0, and all are 0 when
        ``T < MIN_OVERLAP``.
    """
    u = _unit_columns(as_series_matrix(x, "x"))
    r = np.clip(u.T @ u, -1.0, 1.0)
    # A varying series correlates with itself exactly; rounding in u.T @ u must not say less.
    np.fill_diagonal(r, np.any(u != 0.0, axis=0).astype(np.float64))
    return r


def lagged_correlations(x: npt.ArrayLike, max_lag: int) -> LaggedCorrelation:
    """For every pair, the lag in ``[-max_lag, max_lag]`` with the strongest correlation.

    Parameters
    ----------
    x : float[T, K]
        K series over T buckets.
    max_lag : int
        Largest shift tried, in buckets; capped so that at least ``MIN_OVERLAP`` samples
        overlap.

    Returns
    -------
    LaggedCorrelation
        ``r[i, j] = corr(x_i[t], x_j[t + lag[i, j]])`` with the largest ``|r|``; ties go to
        the smaller ``|lag|``, then the positive one. The diagonal has lag 0.
    """
    arr = as_series_matrix(x, "x")
    if max_lag < 0:
        raise ValidationError(f"max_lag must be >= 0, got {max_lag}", field="max_lag")
    t, k = arr.shape
    top = min(max_lag, max(t - MIN_OVERLAP, 0))
    mats, lags = [], []
    for lag in range(top + 1):
        c = np.clip(_unit_columns(arr[: t - lag]).T @ _unit_columns(arr[lag:]), -1.0, 1.0)
        mats.append(c)
        lags.append(lag)
        if lag:
            # corr(x_i[t], x_j[t - L]) is corr(x_j[t], x_i[t + L]): the transpose.
            mats.append(c.T)
            lags.append(-lag)
    stack = np.stack(mats)
    best = np.abs(stack).argmax(axis=0)
    r = np.take_along_axis(stack, best[None], axis=0)[0]
    lag_of = np.asarray(lags, dtype=np.int64)[best]
    diag = np.arange(k)
    r[diag, diag] = stack[0][diag, diag]
    lag_of[diag, diag] = 0
    return LaggedCorrelation(r=r, lag=lag_of)


def strongest_pairs(
    x: npt.ArrayLike,
    labels: Sequence[str],
    k: int = 5,
    max_lag: int = 0,
    min_abs_r: float = 0.0,
) -> list[CorrelatedPair]:
    """The ``k`` pairs of distinct series with the largest ``|r|`` (over lags up to ``max_lag``).

    Parameters
    ----------
    x : float[T, K]
        K series over T buckets.
    labels : K strings
        Names used in the summaries, e.g. ``"db-01 response_ms"``.
    k : int
        Number of pairs returned at most.
    max_lag : int
        0 for plain correlation; otherwise lags are searched as in ``lagged_correlations``.
    min_abs_r : float
        Pairs weaker than this are left out; pairs with ``r == 0`` always are.

    Returns
    -------
    list of CorrelatedPair
        Strongest first; ties in ``|r|`` keep index order.
    """
    arr = as_series_matrix(x, "x")
    if len(labels) != arr.shape[1]:
        raise ValidationError(f"{len(labels)} labels for {arr.shape[1]} series", field="labels")
    lagged = lagged_correlations(arr, max_lag)
    i, j = np.triu_indices(arr.shape[1], k=1)
    r, lag = lagged.r[i, j], lagged.lag[i, j]
    keep = (np.abs(r) >= min_abs_r) & (r != 0.0)
    i, j, r, lag = i[keep], j[keep], r[keep], lag[keep]
    order = np.lexsort((j, i, -np.abs(r)))[: max(k, 0)]
    pairs = []
    for n in order:
        lead, follow = (i[n], j[n]) if lag[n] >= 0 else (j[n], i[n])
        pairs.append(
            CorrelatedPair(
                leader=int(lead),
                follower=int(follow),
                leader_label=labels[lead],
                follower_label=labels[follow],
                r=float(r[n]),
                lag_buckets=int(abs(lag[n])),
            )
        )
    return pairs
