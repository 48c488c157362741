"""The metric list is defined once and consistently."""

from __future__ import annotations

from lib.sim import METRIC_INDEX, METRICS, PERCENT_METRICS, UNITS
from lib.sim.metrics import CONNECTIONS, CPU, UPPER_BOUND


def test_exactly_the_twelve_metrics_in_order() -> None:
    assert METRICS == (
        "cpu_pct", "memory_pct", "disk_pct", "net_in_mbps", "net_out_mbps", "net_latency_ms",
        "packet_loss_pct", "response_ms", "rps", "error_pct", "load1", "connections",
    )  # fmt: skip
    assert [METRIC_INDEX[m] for m in METRICS] == list(range(12))
    assert (CPU, CONNECTIONS) == (0, 11)


def test_units_and_bounds_cover_every_metric() -> None:
    assert set(UNITS) == set(METRICS)
    assert set(PERCENT_METRICS) == {m for m in METRICS if UNITS[m] == "%"}
    assert [UPPER_BOUND[METRIC_INDEX[m]] for m in PERCENT_METRICS] == [100.0] * 5
