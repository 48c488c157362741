"""``/api/analytics/sla``: availability against a target, the error budget and incident timings.

A server is down in a bucket when its status is critical or offline (``lib.analysis.sla``).
Up to a day, statuses come from the simulated metrics bucket by bucket (``method:
"status"``); over a week that would mean recomputing 200,000 buckets, so downtime comes from
the recorded incidents instead (``method: "incidents"``): the root server of every detected
incident of error or critical severity counts as down from its start until it recovered or
was resolved (its cascade mostly degrades rather than fails, as statuses show).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from lib.analysis import (
    Availability,
    ErrorBudget,
    IncidentSpan,
    IncidentTimes,
    availability,
    availability_from_spans,
    down_fraction,
    error_budget,
    incident_times,
    sla_report,
)
from lib.errors import ValidationError
from lib.http.reads import Reading
from lib.http.schemas.fields import Text, finite
from lib.http.schemas.incidents import Incident
from lib.store.db import AlertRecord

log = logging.getLogger("openmanager.http")

Period = Literal["1h", "24h", "7d"]
PERIOD_S: dict[str, int] = {"1h": 3600, "24h": 86_400, "7d": 7 * 86_400}
STATUS_METHOD_MAX_S = 86_400
MINUTE_S = 60
SERIOUS = ("error", "critical")
# Who closes an incident without anyone acknowledging it.
AUTOMATIC = ("engine", "self")


class SlaQuery(BaseModel):
    period: Period = "24h"
    target: float = Field(0.999, gt=0.5, lt=1.0, description="Availability target, e.g. 0.999.")


class ServerAvailability(BaseModel):
    server: str
    availability: float = Field(description="Fraction of the period up, 0..1.")
    downtime_s: float
    met: bool


class FleetAvailability(BaseModel):
    availability: float
    met: bool
    allowed_downtime_s: float
    downtime_s: float


class BurnRateOut(BaseModel):
    window_s: float
    short_window_s: float
    rate: float = Field(description="1.0 spends the budget exactly over the period.")
    short_rate: float
    threshold: float
    alerting: bool


class ErrorBudgetOut(BaseModel):
    budget_s: float
    consumed_s: float
    remaining_s: float = Field(description="Negative once the budget is overspent.")
    remaining_fraction: float
    burn_rates: list[BurnRateOut]


class IncidentTimesOut(BaseModel):
    mttd_s: float | None = Field(description="Mean time to detect; null without a sample.")
    mtta_s: float | None = Field(description="Mean time from detection to the first response.")
    mttr_s: float | None = Field(description="Mean time from start to recovery or resolution.")
    n_incidents: int
    n_open: int
    n_detected: int
    n_acknowledged: int
    n_recovered: int


class SlaResponse(BaseModel):
    period: Period
    method: Literal["status", "incidents"]
    start: datetime
    end: datetime
    bucket: int
    target: float
    fleet: FleetAvailability
    servers: list[ServerAvailability]
    error_budget: ErrorBudgetOut
    incident_times: IncidentTimesOut
    summary: Text


def period_buckets(read: Reading, period: str) -> tuple[int, int]:
    b1 = read.bucket + 1
    return b1 - PERIOD_S[period] // read.fleet.bucket_seconds, b1


def down_per_minute(
    spans: Sequence[IncidentSpan], n_servers: int, start_s: float, end_s: float
) -> npt.NDArray[np.float64]:
    """Fraction of servers down in each minute of ``[start_s, end_s)``, spans counting as down."""
    minutes = max(1, int((end_s - start_s) // MINUTE_S))
    down = np.zeros((n_servers, minutes), dtype=bool)
    for span in spans:
        lo = int(max(0.0, (span.started_s - start_s) // MINUTE_S))
        stop = end_s if span.end_s is None else min(span.end_s, end_s)
        hi = int(np.ceil((stop - start_s) / MINUTE_S))
        down[list(span.servers), lo:hi] = True
    return down.mean(axis=0) if n_servers else np.zeros(minutes)


def _server_index(read: Reading) -> dict[str | None, int]:
    return {server: k for k, server in enumerate(read.fleet.ids)}


def incident_spans(
    read: Reading, incidents: Sequence[Incident], alerts: Sequence[AlertRecord]
) -> list[IncidentSpan]:
    """Detected incidents as spans; the first response is an automatic recovery attempt, an
    operator's resolution or an acknowledged alert on one of its servers, whichever came first."""
    acks: dict[str, list[float]] = {}
    for a in alerts:
        if a.acknowledged_at is not None:
            acks.setdefault(a.server_id, []).append(a.acknowledged_at.timestamp())

    def ts(value: datetime | None) -> float | None:
        return None if value is None else value.timestamp()

    # History may name servers of a fleet since resized: they are left out, not an error.
    index = _server_index(read)
    spans = []
    for i in incidents:
        if i.detected_at is None:
            continue
        started = i.started_at.timestamp()
        end = ts(i.recovered_at if i.recovered_at is not None else i.resolved_at)
        responses = [
            t
            for s in i.servers
            for t in acks.get(s, [])
            if started <= t and (end is None or t <= end)
        ]
        responses.append(ts(i.recovery_attempted_at) or np.inf)
        if i.resolved_by not in (None, *AUTOMATIC):
            responses.append(ts(i.resolved_at) or np.inf)
        first = min(responses)
        try:
            span = IncidentSpan(
                id=i.id,
                type=i.type,
                servers=tuple(index[s] for s in i.servers if s in index),
                started_s=started,
                detected_s=i.detected_at.timestamp(),
                acknowledged_s=None if np.isinf(first) else max(first, started),
                recovered_s=ts(i.recovered_at),
                resolved_s=ts(i.resolved_at),
            )
        except ValidationError as exc:
            # A stored record that contradicts itself (e.g. written by instances that did not
            # share a KV) is the server's problem, not the caller's: leave it out, say so.
            log.warning("incident left out of the SLA figures: %s", exc.message)
            continue
        spans.append(span)
    return spans


def period_spans(
    read: Reading, period: str, incidents: Sequence[Incident], alerts: Sequence[AlertRecord]
) -> tuple[list[IncidentSpan], list[IncidentSpan]]:
    """Detected incidents as spans: those started in the period (for the timings), and the
    downtime of the serious ones overlapping it (on their root server)."""
    b0, _ = period_buckets(read, period)
    start_s = read.state.buckets.start_of(b0)
    spans = incident_spans(read, incidents, alerts)
    index = _server_index(read)
    roots = {
        i.id: index[i.root_server]
        for i in incidents
        if i.severity in SERIOUS and i.root_server in index
    }
    timed = [s for s in spans if s.started_s >= start_s]
    down = [
        replace(s, servers=(roots[s.id],))
        for s in spans
        if s.id in roots and (s.end_s is None or s.end_s > start_s)
    ]
    return timed, down


def sla_response(
    read: Reading,
    query: SlaQuery,
    status: npt.NDArray[np.int8] | None,
    spans: Sequence[IncidentSpan],
    down: Sequence[IncidentSpan],
) -> SlaResponse:
    """Figures from ``status`` (``int8[bucket, server]``) when given, else from the ``down``
    spans; ``spans`` are the detected incidents started in the period, for the timings."""
    b0, b1 = period_buckets(read, query.period)
    start_s, end_s = read.state.buckets.start_of(b0), read.state.buckets.start_of(b1)
    n = read.fleet.size
    if status is not None:
        avail: Availability = availability(status)
        budget = error_budget(down_fraction(status), query.target, read.fleet.bucket_seconds)
    else:
        avail = availability_from_spans(down, n, start_s, end_s)
        bad = down_per_minute(down, n, start_s, end_s)
        budget = error_budget(bad, query.target, MINUTE_S)
    period_s = end_s - start_s
    report = sla_report(avail.fleet, query.target, period_s)
    times = incident_times(spans)
    return SlaResponse(
        period=query.period,
        method="status" if status is not None else "incidents",
        start=read.time_of(b0),
        end=read.time_of(b1),
        bucket=read.bucket,
        target=query.target,
        fleet=FleetAvailability(
            availability=round(report.availability, 6),
            met=report.met,
            allowed_downtime_s=round(report.allowed_downtime_s, 1),
            downtime_s=round(report.downtime_s, 1),
        ),
        servers=[
            ServerAvailability(
                server=read.fleet.ids[s],
                availability=round(a, 6),
                downtime_s=round((1.0 - a) * period_s, 1),
                met=a >= query.target,
            )
            for s, a in enumerate(avail.per_server.tolist())
        ],
        error_budget=_budget(budget),
        incident_times=_times(times),
        summary=_summary(query, report.availability, report.met, budget, times),
    )


def _budget(budget: ErrorBudget) -> ErrorBudgetOut:
    return ErrorBudgetOut(
        budget_s=round(budget.budget_s, 1),
        consumed_s=round(budget.consumed_s, 1),
        remaining_s=round(budget.remaining_s, 1),
        remaining_fraction=round(budget.remaining_fraction, 4),
        burn_rates=[
            BurnRateOut(
                window_s=b.window_s,
                short_window_s=b.short_window_s,
                rate=round(b.rate, 3),
                short_rate=round(b.short_rate, 3),
                threshold=b.threshold,
                alerting=b.alerting,
            )
            for b in budget.burn_rates
        ],
    )


def _times(times: IncidentTimes) -> IncidentTimesOut:
    return IncidentTimesOut(
        mttd_s=None if times.mttd_s is None else finite(times.mttd_s, 1),
        mtta_s=None if times.mtta_s is None else finite(times.mtta_s, 1),
        mttr_s=None if times.mttr_s is None else finite(times.mttr_s, 1),
        n_incidents=times.n_incidents,
        n_open=times.n_open,
        n_detected=times.n_detected,
        n_acknowledged=times.n_acknowledged,
        n_recovered=times.n_recovered,
    )


def _summary(
    query: SlaQuery, avail: float, met: bool, budget: ErrorBudget, times: IncidentTimes
) -> Text:
    pct, target = f"{avail * 100:.3f}%", f"{query.target * 100:g}%"
    left = f"{budget.remaining_fraction * 100:.0f}%"
    mttr = None if times.mttr_s is None else f"{times.mttr_s / 60:.1f}"
    return Text(
        en=f"Fleet availability over {query.period}: {pct} (target {target}, "
        f"{'met' if met else 'missed'}); error budget left {left}; "
        f"MTTR {'n/a' if mttr is None else mttr + ' min'}.",
        ko=f"최근 {query.period} 전체 가용성 {pct} (목표 {target}, "
        f"{'달성' if met else '미달'}) · 남은 오류 예산 {left} · "
        f"MTTR {'없음' if mttr is None else mttr + '분'}",
    )
