"""The hold: one episode, one detection, unless it gets worse.

A detection is held when another one, at least as severe (to within 1e-9), happened in the
previous ``hold`` samples of the series; held detections score ``levels.HELD`` instead of a
warning. Severity is how far the value is from the baseline in spreads, a yardstick that the
first detection does not move (its strength, measured against the extremes, would). NAB
rewards only the first detection in an anomaly window and charges every other one, and an
operator wants one page per episode plus one more each time it worsens.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["apply_hold"]


def apply_hold(
    detected: npt.NDArray[np.bool_],
    severity: npt.NDArray[np.float64],
    recent: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Which rows are held, and the detections of the last ``hold`` rows to carry forward.

    Parameters
    ----------
    detected : bool[T, S]
        Rows beyond their warning band.
    severity : float64[T, S]
        How far each row is from its baseline, in spreads.
    recent : float64[S, hold]
        Severities of the detections in the ``hold`` rows before row 0 (0: none), oldest
        first.

    Returns
    -------
    held : bool[T, S]
    recent : float64[S, hold]
        The same for the rows after the last one.
    """
    n_rows, n_series = detected.shape
    hold = recent.shape[1]
    # Detections are sparse: work on the list of them, remembered ones at rows -hold..-1.
    past_col, past_age = np.nonzero(recent)
    now_row, now_col = np.nonzero(detected)
    row = np.concatenate((past_age - hold, now_row))
    column = np.concatenate((past_col, now_col))
    # A detection right on the baseline (a channel other than the value's) still counts.
    now = np.maximum(severity[now_row, now_col], np.finfo(np.float64).tiny)
    value = np.concatenate((recent[past_col, past_age], now))
    order = np.lexsort((row, column))
    row, column, value = row[order], column[order], value[order]

    # Strongest earlier detection of the same series within ``hold`` rows: the d-th previous
    # entry qualifies only if every nearer one does, so stop at the first distance with none.
    stronger = np.full(value.shape, -np.inf)
    for d in range(1, hold + 1):
        near = (column[d:] == column[:-d]) & (row[d:] - row[:-d] <= hold)
        if not near.any():
            break
        stronger[d:][near] = np.maximum(stronger[d:][near], value[:-d][near])

    held = np.zeros((n_rows, n_series), dtype=bool)
    # "Stronger" means by more than rounding: the verdict must not depend on how the window
    # was split into calls.
    is_held = (row >= 0) & (value <= stronger * (1.0 + 1e-9))
    held[row[is_held], column[is_held]] = True
    kept = row >= n_rows - hold
    carried = np.zeros_like(recent)
    carried[column[kept], row[kept] - (n_rows - hold)] = value[kept]
    return held, carried
