"""How far each metric of each server has moved from its own recent normal, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from lib.sim import METRICS

F64 = npt.NDArray[np.float64]

RECENT: Final = 8
"""Buckets that make up "now" (24 s at 3 s)."""
BASELINE: Final = 200
"""Buckets of normal behaviour compared against (10 min at 3 s)."""
GUARD: Final = 5
"""Buckets left out between the baseline and the first alert's onset."""
ONSET_Z: Final = 3.0
"""A metric counts as moved in a bucket once this many scales away from its baseline."""

# Smallest scale per metric: below it a change is not worth a look whatever the noise.
_ABS_FLOOR: Final = {
    "cpu_pct": 2.0, "memory_pct": 1.0, "disk_pct": 0.5, "net_latency_ms": 0.5,
    "packet_loss_pct": 0.2, "error_pct": 0.25, "load1": 0.2,
}  # fmt: skip
_REL_FLOOR: Final = 0.05
_TINY: Final = 1e-9  # a metric flat at zero in its baseline (a dead server's rps) still divides
ABS_FLOOR: Final = np.array([_ABS_FLOOR.get(m, 0.0) for m in METRICS])
TRAFFIC_DRIVEN: Final = tuple(
    METRICS.index(m) for m in ("cpu_pct", "net_in_mbps", "net_out_mbps", "load1", "connections")
)
"""Metrics that follow the request rate: more traffic moves them without any failure."""
_RPS: Final = METRICS.index("rps")
SLOW: Final = tuple(METRICS.index(m) for m in ("memory_pct", "disk_pct"))
"""Metrics that leaks and fills push up over tens of minutes to hours: their baseline is the
start of the window (the furthest back), not the minutes before the first alert."""


@dataclass(frozen=True)
class Deviation:
    """Per server (axis 0, the observation's order) and metric (axis 1).

    ``median``/``scale``: the baseline; ``level``: the recent mean; ``z_up``/``z_down``:
    how many scales the recent upper/lower quartile sits above/below the baseline (>= 0);
    ``onset``: the first bucket of the current excursion (-1: none); ``z_up_per_request``:
    the rise of each metric per request (``z_up`` for metrics that do not follow traffic);
    ``latest``: the last bucket's values.
    """

    median: F64
    scale: F64
    level: F64
    z_up: F64
    z_down: F64
    onset: npt.NDArray[np.int64]
    z_up_per_request: F64
    latest: F64

    def z(self, server: int, metric: int, direction: int) -> float:
        """The move of one metric in one direction, in scales (>= 0).

        A rise of a traffic-driven metric counts only as far as it outgrows the requests.
        """
        if direction < 0:
            return float(self.z_down[server, metric])
        return float(min(self.z_up[server, metric], self.z_up_per_request[server, metric]))

    def moved(self, server: int, z_min: float) -> list[tuple[int, int, float]]:
        """(metric, direction, z) of every metric of ``server`` moved at least ``z_min``."""
        out = []
        for m in range(len(METRICS)):
            up, down = float(self.z_up[server, m]), float(self.z_down[server, m])
            if max(up, down) >= z_min:
                out.append((m, 1 if up >= down else -1, max(up, down)))
        return out


def deviation(values: npt.NDArray[np.float32], b0: int, first_onset: int) -> Deviation:
    """Baseline before ``first_onset`` (a bucket), recent window at the end of ``values``."""
    v = values.astype(np.float64)
    t = v.shape[0]
    recent0 = max(1, t - RECENT)
    base1 = min(recent0, max(20, first_onset - b0 - GUARD))
    base0 = max(0, base1 - BASELINE)
    base = v[base0:base1].copy()
    slow = list(SLOW)
    base[:, :, slow] = v[: base1 - base0, :, slow]
    median = np.median(base, axis=0)
    mad = np.median(np.abs(base - median), axis=0) * 1.4826
    scale = np.maximum(np.maximum(mad, _REL_FLOOR * np.abs(median)), ABS_FLOOR) + _TINY
    recent = v[recent0:]
    z_up = _z_up(base, recent, scale)
    z_down = np.maximum(median - np.quantile(recent, 0.25, axis=0), 0.0) / scale
    watched = base1 - base0  # slow metrics are watched from the end of their own baseline
    onset = _onsets(v[watched:], median, scale, z_up >= z_down, b0 + watched)
    per_request = z_up.copy()
    cols = list(TRAFFIC_DRIVEN)
    ratio = v[:, :, cols] / np.maximum(v[:, :, _RPS : _RPS + 1], 1.0)
    rbase = ratio[base0:base1]
    rmed = np.median(rbase, axis=0)
    rmad = np.median(np.abs(rbase - rmed), axis=0) * 1.4826
    rscale = np.maximum(rmad, _REL_FLOOR * np.abs(rmed)) + _TINY
    per_request[:, cols] = _z_up(rbase, ratio[recent0:], rscale)
    return Deviation(
        median, scale, recent.mean(axis=0), z_up, z_down, onset, per_request, v[-1].copy()
    )


def _z_up(base: F64, recent: F64, scale: F64) -> F64:
    return np.maximum(np.quantile(recent, 0.75, axis=0) - np.median(base, axis=0), 0.0) / scale


def _onsets(
    after: F64, median: F64, scale: F64, up: npt.NDArray[np.bool_], first_bucket: int
) -> npt.NDArray[np.int64]:
    """Per (server, metric), the bucket where the excursion still in force now began (-1).

    The excursion is the last run of rows beyond ``ONSET_Z`` in the metric's direction that
    no more than a quarter of the rows after it interrupt (intermittent failures pulse).
    """
    signed = np.where(up, after - median, median - after) / scale
    beyond = signed >= ONSET_Z
    n = beyond.shape[0]
    if n == 0:
        return np.full(median.shape, -1, dtype=np.int64)
    # share of rows beyond, from each row to the end
    tail = np.cumsum(beyond[::-1], axis=0)[::-1] / np.arange(n, 0, -1)[:, None, None]
    ok = beyond & (tail >= 0.75)
    first = np.argmax(ok, axis=0) + first_bucket
    return np.where(ok.any(axis=0), first, -1).astype(np.int64)
