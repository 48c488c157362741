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

# English and Korean names of the metrics the simulator produces; others show as named.
METRIC_LABELS: Final[dict[str, tuple[str, str]]] = {
    "cpu_pct": ("CPU usage", "CPU 사용률"),
    "memory_pct": ("memory usage", "메모리 사용률"),
    "disk_pct": ("disk usage", "디스크 사용률"),
    "net_in_mbps": ("inbound traffic", "수신 트래픽"),
    "net_out_mbps": ("outbound traffic", "송신 트래픽"),
    "net_latency_ms": ("network latency", "네트워크 지연"),
    "packet_loss_pct": ("packet loss", "패킷 손실률"),
    "response_ms": ("response time", "응답 지연"),
    "rps": ("request rate", "초당 요청 수"),
    "error_pct": ("error rate", "오류율"),
    "load1": ("load average", "부하 평균"),
    "connections": ("connections", "연결 수"),
}


def metric_label(metric: str) -> tuple[str, str]:
    """(English, Korean) name of a metric, the metric itself when unknown."""
    return METRIC_LABELS.get(metric, (metric, metric))


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
