"""Input checks shared by the analysis functions: shapes and finiteness, named in the error."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError

FloatArray = npt.NDArray[np.float64]


def as_series_matrix(x: npt.ArrayLike, field: str) -> FloatArray:
    """``x`` as ``float64[time, series]``: two dimensions, every value finite."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValidationError(
            f"{field} must be a 2-D array [time, series], got shape {arr.shape}", field=field
        )
    if not np.isfinite(arr).all():
        raise ValidationError(f"{field} holds NaN or infinite values", field=field)
    return arr


def as_vector(x: npt.ArrayLike, field: str, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """``x`` as a 1-D array of ``dtype`` with finite values."""
    arr = np.asarray(x, dtype=dtype)
    if arr.ndim != 1:
        raise ValidationError(f"{field} must be a 1-D array, got shape {arr.shape}", field=field)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValidationError(f"{field} holds NaN or infinite values", field=field)
    return arr


def is_flat(centered_norm: FloatArray, x: FloatArray) -> npt.NDArray[np.bool_]:
    """Columns whose spread is rounding noise: treated as constant, never divided by.

    ``centered_norm`` is the norm of each column of ``x`` minus its mean; a constant column
    leaves residues of a few ulps after centering, which must not read as a signal.
    """
    scale = np.abs(x).max(axis=0, initial=0.0)
    flat: npt.NDArray[np.bool_] = centered_norm <= 1e-10 * scale * np.sqrt(max(x.shape[0], 1))
    return flat
