"""Routine work that moves metrics without harm: what a busy fleet looks like when healthy.

Traffic rising or falling (a surge, its end, a region taking over another's load) moves
every metric that follows requests, and response time with it; a nightly batch or a log
rotation keeps a CPU busy; a deploy's restart is a blip that is over by the time anyone
looks. None of these is a failure as long as nothing suffers, so diagnosis names the
pattern (for the evidence) and the engine opens no incident for it.
"""

from __future__ import annotations

from typing import Final

from lib.diagnose.deviation import TRAFFIC_DRIVEN, Deviation
from lib.sim import METRICS

_M = {name: i for i, name in enumerate(METRICS)}
MOVED_Z: Final = 5.0
"""A metric counts as moved from this many scales."""
TRAFFIC: Final = "traffic"
BUSY: Final = "busy"
TRANSIENT: Final = "transient"
ROUTINES: Final = (TRAFFIC, BUSY, TRANSIENT)
"""``traffic``: requests moved and the load followed them; ``busy``: CPU worked harder with
nothing suffering (a batch job, a rotation's compression); ``transient``: a blip that is
over (a deploy's restart)."""


def load_ratio(dev: Deviation, row: int) -> float:
    """Requests now over requests in the baseline (1 when the server serves none)."""
    base = float(dev.median[row, _M["rps"]])
    return float(dev.level[row, _M["rps"]]) / base if base >= 1.0 else 1.0


def follows_traffic(dev: Deviation, row: int) -> bool:
    """Requests moved and no metric that follows them outgrew them."""
    rps = max(dev.z_up[row, _M["rps"]], dev.z_down[row, _M["rps"]])
    return bool(
        rps >= MOVED_Z and all(dev.z_up_per_request[row, m] < MOVED_Z for m in TRAFFIC_DRIVEN)
    )


def routine_of(dev: Deviation, row: int) -> str:
    """The routine pattern a harmless anomaly of server ``row`` looks like."""
    if follows_traffic(dev, row):
        return TRAFFIC
    if max(dev.z_up[row, _M["cpu_pct"]], dev.z_up[row, _M["load1"]]) >= MOVED_Z:
        return BUSY
    return TRANSIENT
