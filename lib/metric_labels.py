"""English and Korean names of the metrics, defined once.

No imports: alerts, diagnosis, schemas and the assistant all name metrics, and none of them may
depend on another for it (like ``lib.alert_levels``). A metric not listed shows as named.
"""

from __future__ import annotations

from typing import Final

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
