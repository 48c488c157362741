"""Availability, SLA targets, error budgets with multi-window burn rates, MTTD/MTTA/MTTR.

A server is *down* in a bucket when its status is critical or offline. Availability is the
fraction of time a server is not down; the fleet figure is the mean over servers (server-time
up over server-time observed).

Incident timings (``IncidentSpan``, seconds) use these timestamps:

- MTTD, mean time to detect: ``detected_s - started_s`` over incidents that were detected.
- MTTA, mean time to acknowledge: ``acknowledged_s - detected_s`` over incidents that were
  detected and acknowledged (the clock starts when someone could have been told; an
  acknowledgement that came before detection counts as 0).
- MTTR, mean time to recover: ``end - started_s`` where ``end`` is ``recovered_s``, or
  ``resolved_s`` for an incident closed without a recorded recovery. Open incidents (neither)
  are left out of every mean rather than counted as zero or as "until now".

A mean with no sample is ``None``, never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import as_vector
from lib.analysis.health import ServerStatus, as_status
from lib.errors import ValidationError

HOUR_S = 3600.0


@dataclass(frozen=True)
class IncidentSpan:
    """One incident's timestamps in seconds; ``servers`` are fleet indices."""

    id: str
    type: str
    servers: tuple[int, ...]
    started_s: float
    detected_s: float | None = None
    acknowledged_s: float | None = None
    recovered_s: float | None = None
    resolved_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("detected_s", "acknowledged_s", "recovered_s", "resolved_s"):
            value = getattr(self, name)
            if value is not None and value < self.started_s:
                raise ValidationError(
                    f"incident {self.id}: {name}={value} is before started_s={self.started_s}",
                    field=name,
                )

    @property
    def end_s(self) -> float | None:
        """When service came back: ``recovered_s``, else ``resolved_s``; ``None`` while open."""
        return self.recovered_s if self.recovered_s is not None else self.resolved_s


@dataclass(frozen=True)
class Availability:
    """Fraction of time up, per server (``float64[N]``) and for the fleet, all in [0, 1]."""

    per_server: npt.NDArray[np.float64]
    fleet: float


@dataclass(frozen=True)
class SlaReport:
    """An availability compared with its target over a period."""

    target: float
    availability: float
    met: bool
    allowed_downtime_s: float
    downtime_s: float


@dataclass(frozen=True)
class BurnWindow:
    """A long window, its short confirmation window and the burn rate that should page."""

    long_s: float
    short_s: float
    threshold: float


# The Google SRE workbook's multi-window, multi-burn-rate alerts for a 30-day SLO: 2 % of the
# budget in 1 h, 5 % in 6 h, 10 % in 24 h; the short window (1/12) stops a recovered burn
# from paging for the rest of the long window.
DEFAULT_BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow(long_s=1 * HOUR_S, short_s=300.0, threshold=14.4),
    BurnWindow(long_s=6 * HOUR_S, short_s=1800.0, threshold=6.0),
    BurnWindow(long_s=24 * HOUR_S, short_s=7200.0, threshold=3.0),
)


@dataclass(frozen=True)
class BurnRate:
    """Burn rate over a long and a short trailing window; ``alerting`` when both exceed."""

    window_s: float
    short_window_s: float
    rate: float
    short_rate: float
    threshold: float
    alerting: bool


@dataclass(frozen=True)
class ErrorBudget:
    """Error budget of an availability target over the observed period, in seconds."""

    target: float
    period_s: float
    budget_s: float
    consumed_s: float
    remaining_s: float
    remaining_fraction: float
    burn_rates: tuple[BurnRate, ...]


@dataclass(frozen=True)
class IncidentTimes:
    """Mean incident timings in seconds (``None`` without a sample) and the counts behind them."""

    mttd_s: float | None
    mtta_s: float | None
    mttr_s: float | None
    n_incidents: int
    n_open: int
    n_detected: int
    n_acknowledged: int
    n_recovered: int


def _check_target(target: float) -> None:
    if not 0.0 < target < 1.0:
        raise ValidationError(f"target must be in (0, 1), got {target}", field="target")


def down_fraction(status: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Fraction of servers down in each bucket: ``int8[T, N]`` statuses → ``float64[T]``."""
    s = as_status(status)
    if s.ndim != 2:
        raise ValidationError(f"status must be [time, server], got {s.shape}", field="status")
    if s.shape[1] == 0:
        return np.zeros(s.shape[0])
    return (s >= ServerStatus.CRITICAL).mean(axis=1)


def availability(status: npt.ArrayLike) -> Availability:
    """Availability from per-bucket statuses ``int8[T, N]``; an empty period counts as up."""
    s = as_status(status)
    if s.ndim != 2:
        raise ValidationError(f"status must be [time, server], got {s.shape}", field="status")
    if s.shape[0] == 0:
        return Availability(per_server=np.ones(s.shape[1]), fleet=1.0)
    per_server = 1.0 - (s >= ServerStatus.CRITICAL).mean(axis=0)
    fleet = float(per_server.mean()) if per_server.size else 1.0
    return Availability(per_server=per_server, fleet=fleet)


def availability_from_spans(
    spans: Sequence[IncidentSpan], n_servers: int, start_s: float, end_s: float
) -> Availability:
    """Availability over ``[start_s, end_s)`` counting every span as downtime of its servers.

    A span runs from ``started_s`` to its ``end_s`` (or to ``end_s`` of the period while
    open). Overlapping spans on one server are merged, so downtime is never counted twice.
    Pass only the incidents that mean "down" (the caller decides which types do).
    """
    if end_s < start_s:
        raise ValidationError("end_s is before start_s", field="end_s")
    period = end_s - start_s
    if period == 0.0:
        return Availability(per_server=np.ones(n_servers), fleet=1.0)
    rows = [
        (
            server,
            max(span.started_s, start_s),
            end_s if span.end_s is None else min(span.end_s, end_s),
        )
        for span in spans
        for server in span.servers
    ]
    if any(not 0 <= server < n_servers for server, _, _ in rows):
        raise ValidationError(f"a span names a server outside 0..{n_servers - 1}", field="spans")
    down = np.zeros(n_servers)
    current, reach = -1, start_s
    # Union of intervals per server, in (server, start) order: each interval adds only what
    # lies past the furthest end reached so far on its server. Incidents are few; this loop
    # is over incidents, not over servers or buckets.
    for server, lo, hi in sorted(rows):
        if server != current:
            current, reach = server, start_s
        down[server] += max(0.0, hi - max(lo, reach))
        reach = max(reach, hi)
    per_server = 1.0 - np.clip(down / period, 0.0, 1.0)
    fleet = float(per_server.mean()) if n_servers else 1.0
    return Availability(per_server=per_server, fleet=fleet)


def sla_report(availability_fraction: float, target: float, period_s: float) -> SlaReport:
    """Compare an availability in [0, 1] over ``period_s`` with a target such as 0.999."""
    _check_target(target)
    return SlaReport(
        target=target,
        availability=availability_fraction,
        met=availability_fraction >= target,
        allowed_downtime_s=(1.0 - target) * period_s,
        downtime_s=(1.0 - availability_fraction) * period_s,
    )


def error_budget(
    bad: npt.ArrayLike,
    target: float,
    bucket_seconds: float,
    windows: Sequence[BurnWindow] = DEFAULT_BURN_WINDOWS,
) -> ErrorBudget:
    """Budget, consumption and burn rates of an availability target.

    Parameters
    ----------
    bad : float[T]
        Fraction of the service down in each bucket, oldest first (0/1 for one server,
        ``down_fraction(status)`` for the fleet).
    target : float
        Availability target in (0, 1), e.g. 0.999.
    bucket_seconds : float
        Length of one bucket.
    windows : BurnWindow sequence
        Burn-rate windows. A window longer than the data uses all of it.

    Returns
    -------
    ErrorBudget
        Burn rate 1.0 spends the budget exactly over the period; ``remaining_s`` is negative
        once the budget is overspent. With no data every figure is 0 and nothing alerts.
    """
    _check_target(target)
    b = np.clip(as_vector(bad, "bad"), 0.0, 1.0)
    allowed = 1.0 - target
    period_s = b.size * bucket_seconds
    budget_s = allowed * period_s
    consumed_s = float(b.sum()) * bucket_seconds
    tail_sums = np.r_[0.0, np.cumsum(b[::-1])]

    def rate(window_s: float) -> float:
        n = min(b.size, max(1, round(window_s / bucket_seconds)))
        return float(tail_sums[n] / n / allowed) if n else 0.0

    burn = tuple(
        BurnRate(
            window_s=w.long_s,
            short_window_s=w.short_s,
            rate=rate(w.long_s),
            short_rate=rate(w.short_s),
            threshold=w.threshold,
            alerting=rate(w.long_s) > w.threshold and rate(w.short_s) > w.threshold,
        )
        for w in windows
    )
    return ErrorBudget(
        target=target,
        period_s=period_s,
        budget_s=budget_s,
        consumed_s=consumed_s,
        remaining_s=budget_s - consumed_s,
        remaining_fraction=(budget_s - consumed_s) / budget_s if budget_s else 0.0,
        burn_rates=burn,
    )


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def incident_times(spans: Sequence[IncidentSpan]) -> IncidentTimes:
    """MTTD, MTTA and MTTR over ``spans`` (see the module docstring for the timestamps)."""
    detect = [s.detected_s - s.started_s for s in spans if s.detected_s is not None]
    ack = [
        s.acknowledged_s - s.detected_s
        for s in spans
        if s.detected_s is not None and s.acknowledged_s is not None
    ]
    recover = [end - s.started_s for s in spans if (end := s.end_s) is not None]
    return IncidentTimes(
        mttd_s=_mean(detect),
        mtta_s=_mean([max(a, 0.0) for a in ack]),
        mttr_s=_mean(recover),
        n_incidents=len(spans),
        n_open=len(spans) - len(recover),
        n_detected=len(detect),
        n_acknowledged=len(ack),
        n_recovered=len(recover),
    )
