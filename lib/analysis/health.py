"""Fleet health: one 0–100 figure from per-server health scores and statuses, and status counts.

Status codes are ``ServerStatus`` values in an ``int8[server]`` array. A plain mean would let
twenty healthy servers hide two that are down, so each server's health is weighted by how
bad its status is (``STATUS_WEIGHTS``) and an offline server counts with health 0, whatever
score it last reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import as_vector
from lib.errors import ValidationError


class ServerStatus(IntEnum):
    """Status of one server at one bucket, ordered from best to worst."""

    HEALTHY = 0
    WARNING = 1
    CRITICAL = 2
    OFFLINE = 3


STATUS_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in ServerStatus)

# Weight of one server in the fleet score by status: a critical or offline server pulls the
# figure down as much as four healthy ones hold it up.
STATUS_WEIGHTS: tuple[float, float, float, float] = (1.0, 2.0, 4.0, 4.0)


@dataclass(frozen=True)
class FleetHealth:
    """Fleet health score in [0, 100] with the number of servers in each status."""

    score: float
    counts: Mapping[str, int]
    n_servers: int


def as_status(status: npt.ArrayLike, field: str = "status") -> npt.NDArray[np.int8]:
    """``status`` as an ``int8`` array of ``ServerStatus`` codes (any shape), range-checked."""
    arr = np.asarray(status)
    if arr.size and (arr.min() < 0 or arr.max() > ServerStatus.OFFLINE):
        raise ValidationError(f"{field} holds a code outside 0..3", field=field)
    return arr.astype(np.int8, copy=False)


def status_counts(status: npt.ArrayLike) -> dict[str, int]:
    """Number of servers per status name, every status present (``int8[server]`` in)."""
    codes = as_status(status).reshape(-1)
    counts = np.bincount(codes, minlength=len(ServerStatus))
    return {name: int(c) for name, c in zip(STATUS_NAMES, counts, strict=True)}


def fleet_health(
    health: npt.ArrayLike,
    status: npt.ArrayLike,
    weights: tuple[float, float, float, float] = STATUS_WEIGHTS,
) -> FleetHealth:
    """Status-weighted mean of per-server health.

    Parameters
    ----------
    health : float[N]
        Per-server health in [0, 100] (values outside are clipped).
    status : int8[N]
        ``ServerStatus`` of each server.
    weights : 4 floats
        Weight of a server per status, all positive.

    Returns
    -------
    FleetHealth
        ``score`` is 100.0 for an empty fleet (nothing is unhealthy).
    """
    h = np.clip(as_vector(health, "health"), 0.0, 100.0)
    s = as_status(status)
    if s.shape != h.shape:
        raise ValidationError(f"status has shape {s.shape}, health has {h.shape}", field="status")
    w_table = np.asarray(weights, dtype=np.float64)
    if w_table.shape != (len(ServerStatus),) or (w_table <= 0).any():
        raise ValidationError("weights must be four positive numbers", field="weights")
    w = w_table[s]
    h = np.where(s == ServerStatus.OFFLINE, 0.0, h)
    score = float(np.dot(w, h) / w.sum()) if h.size else 100.0
    return FleetHealth(score=score, counts=status_counts(s), n_servers=int(h.size))
