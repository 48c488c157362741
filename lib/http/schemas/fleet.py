"""The fleet at a glance: every server's metrics, status and health, and a summary.

Shaping is array work on the per-bucket view: filters are boolean masks, sorting one
``lexsort``, and only the servers of the page become models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from lib.analysis import STATUS_NAMES, fleet_health, status_counts
from lib.engine.view import FleetView
from lib.http.reads import Reading
from lib.http.schemas.fields import STATUS_KO, EnvName, RegionName, RoleName, StatusName, Text
from lib.http.schemas.incidents import open_incident_count
from lib.sim import ENVIRONMENTS, METRIC_INDEX, METRICS, REGIONS, ROLES, UNITS, Fleet

SORT_KEYS = ("id", "role", "region", "status", "health", *METRICS)
SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]


PastMoment = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=40,
        description="A past moment, ISO-8601 time (e.g. 2026-11-23T10:00:00Z) or bucket number:"
        " the fleet as it was then, at most RETENTION_DAYS back. Past pages carry no open"
        " alerts (the alert book holds the present).",
        examples=["2026-11-23T10:00:00Z", "9651105"],
    ),
]


class FleetQuery(BaseModel):
    page: int = Field(1, ge=1, description="1-based page number.")
    limit: int = Field(100, ge=1, le=500, description="Servers per page.")
    sort: SortKey = Field("id", description="id, role, region, status, health or a metric.")
    order: Literal["asc", "desc"] = "asc"
    role: RoleName | None = None
    region: RegionName | None = None
    status: StatusName | None = None
    q: str | None = Field(
        None, min_length=1, max_length=64, description="Substring of id, role, region or env."
    )
    at: PastMoment = None


class FleetServer(BaseModel):
    id: str = Field(examples=["web-01"])
    role: RoleName
    region: RegionName
    env: EnvName
    status: StatusName
    health: float = Field(description="0..100, 100 is perfectly healthy.")
    anomaly_score: float = Field(description="Highest anomaly score of its metrics, 0..1.")
    open_alerts: int
    metrics: dict[str, float] = Field(description="Metric name → value (units in ``units``).")


class FleetSummary(BaseModel):
    servers: int
    by_status: dict[str, int]
    by_role: dict[str, int]
    by_region: dict[str, int]
    health: float = Field(description="Status-weighted fleet health, 0..100.")
    active_incidents: int = Field(description="Open detected incidents and injected ones.")
    open_alerts: int
    text: Text


class FleetPage(BaseModel):
    bucket: int
    at: datetime
    processed_through: int | None = Field(description="Last bucket the engine has processed.")
    units: dict[str, str] = Field(description="Metric name → unit.")
    summary: FleetSummary
    total: int = Field(description="Servers matching the filters.")
    page: int
    limit: int
    pages: int
    servers: list[FleetServer]


def _rank(names: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Alphabetical rank of each name, so that sorting by rank sorts by name."""
    return np.argsort(np.argsort(np.array(names), kind="stable"), kind="stable")


def _sort_key(fleet: FleetView, key: str) -> npt.NDArray[np.float64]:
    f = fleet.fleet
    if key == "id":
        return _rank(f.ids).astype(np.float64)
    if key == "role":
        return _rank(ROLES)[f.role].astype(np.float64)
    if key == "region":
        return _rank(REGIONS)[f.region].astype(np.float64)
    if key == "status":
        return fleet.status.astype(np.float64)
    if key == "health":
        return fleet.health.astype(np.float64)
    return fleet.values[:, METRIC_INDEX[key]].astype(np.float64)


def _haystacks(f: Fleet) -> list[str]:
    return [
        f"{i} {ROLES[r]} {REGIONS[g]} {ENVIRONMENTS[e]}"
        for i, r, g, e in zip(f.ids, f.role, f.region, f.env, strict=True)
    ]


def selected(view: FleetView, query: FleetQuery) -> npt.NDArray[np.intp]:
    """Indices of the servers matching the filters, in the requested order."""
    f = view.fleet
    keep = np.ones(f.size, dtype=bool)
    if query.role is not None:
        keep &= f.role == ROLES.index(query.role)
    if query.region is not None:
        keep &= f.region == REGIONS.index(query.region)
    if query.status is not None:
        keep &= view.status == STATUS_NAMES.index(query.status)
    if query.q is not None:
        needle = query.q.lower()
        keep &= np.array([needle in h for h in _haystacks(f)], dtype=bool)
    primary = _sort_key(view, query.sort)
    if query.order == "desc":
        primary = -primary
    order = np.lexsort((_sort_key(view, "id"), primary))
    return order[keep[order]]


def _counts(codes: npt.NDArray[np.int8], names: tuple[str, ...]) -> dict[str, int]:
    """Servers per name, for the names that have any."""
    counts = np.bincount(codes, minlength=len(names)).tolist()
    return {name: n for name, n in zip(names, counts, strict=True) if n}


def summary(view: FleetView) -> FleetSummary:
    f = view.fleet
    by_status = status_counts(view.status)
    health = fleet_health(view.health, view.status).score
    incidents = open_incident_count(view)
    alerts = len(view.open_alerts)
    counts = ", ".join(f"{by_status[s]} {s}" for s in STATUS_NAMES)
    counts_ko = ", ".join(f"{STATUS_KO[s]} {by_status[s]}" for s in STATUS_NAMES)
    return FleetSummary(
        servers=f.size,
        by_status=by_status,
        by_role={
            ROLES[r]: int(n) for r, n in enumerate(np.bincount(f.role, minlength=len(ROLES))) if n
        },
        by_region={
            REGIONS[g]: int(n)
            for g, n in enumerate(np.bincount(f.region, minlength=len(REGIONS)))
            if n
        },
        health=round(health, 1),
        active_incidents=incidents,
        open_alerts=alerts,
        text=Text(
            en=f"{f.size} servers: {counts}; fleet health {health:.1f}/100; "
            f"{incidents} active incident(s), {alerts} open alert(s).",
            ko=f"서버 {f.size}대: {counts_ko} · 전체 건강도 {health:.1f}/100 · "
            f"진행 중인 장애 {incidents}건, 열린 알림 {alerts}건",
        ),
    )


def fleet_page(read: Reading, query: FleetQuery, view: FleetView | None = None) -> FleetPage:
    """The page ``query`` asks for, with the summary of the whole fleet (of ``view``, by
    default the current one)."""
    view = view or read.view
    f = view.fleet
    chosen = selected(view, query)
    start = (query.page - 1) * query.limit
    page = chosen[start : start + query.limit]
    values = np.round(view.values[page].astype(np.float64), 3).tolist()
    scores = np.round(view.series("score")[page].max(axis=1), 3).tolist()
    alerts = np.bincount([a.server for a in view.open_alerts], minlength=f.size)[page].tolist()
    health = np.round(view.health[page].astype(np.float64), 1).tolist()
    servers = [
        FleetServer(
            id=f.ids[s],
            role=ROLES[f.role[s]],
            region=REGIONS[f.region[s]],
            env=ENVIRONMENTS[f.env[s]],
            status=view.status_name(s),
            health=health[k],
            anomaly_score=scores[k],
            open_alerts=alerts[k],
            metrics=dict(zip(METRICS, values[k], strict=True)),
        )
        for k, s in enumerate(page.tolist())
    ]
    return FleetPage(
        bucket=view.bucket,
        at=read.time_of(view.bucket),
        processed_through=view.processed_through,
        units=dict(UNITS),
        summary=summary(view),
        total=int(chosen.size),
        page=query.page,
        limit=query.limit,
        pages=max(1, -(-int(chosen.size) // query.limit)),
        servers=servers,
    )
