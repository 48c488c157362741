"""The twelve metrics every simulated server reports, defined once: order, units, bounds.

Every array with a metric axis (``float32[..., metric]``) uses this order.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

METRICS: Final = (
    "cpu_pct",
    "memory_pct",
    "disk_pct",
    "net_in_mbps",
    "net_out_mbps",
    "net_latency_ms",
    "packet_loss_pct",
    "response_ms",
    "rps",
    "error_pct",
    "load1",
    "connections",
)
METRIC_INDEX: Final = MappingProxyType({name: i for i, name in enumerate(METRICS)})


(
    CPU,
    MEMORY,
    DISK,
    NET_IN,
    NET_OUT,
    LATENCY,
    PACKET_LOSS,
    RESPONSE,
    RPS,
    ERROR,
    LOAD1,
    CONNECTIONS,
) = range(len(METRICS))

UNITS: Final = MappingProxyType(
    {
        "cpu_pct": "%",
        "memory_pct": "%",
        "disk_pct": "%",
        "net_in_mbps": "Mbit/s",
        "net_out_mbps": "Mbit/s",
        "net_latency_ms": "ms",
        "packet_loss_pct": "%",
        "response_ms": "ms",
        "rps": "requests/s",
        "error_pct": "%",
        "load1": "runnable tasks",
        "connections": "open connections",
    }
)

PERCENT_METRICS: Final = tuple(name for name in METRICS if name.endswith("_pct"))

# Every metric is non-negative; percentages are also capped at 100.
UPPER_BOUND: Final[npt.NDArray[np.float64]] = np.array(
    [100.0 if name in PERCENT_METRICS else np.inf for name in METRICS]
)
UPPER_BOUND.flags.writeable = False
