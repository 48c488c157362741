"""One server: its spec and readings now, its history with the bands, its logs and processes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from lib.engine.history import MetricHistory
from lib.errors import ValidationError
from lib.http.reads import Reading
from lib.http.schemas.alerts import Alert, merged_alerts
from lib.http.schemas.fields import (
    STATUS_KO,
    CommaList,
    EnvName,
    Instant,
    MetricName,
    RegionName,
    RoleName,
    StatusName,
    Text,
    finite,
)
from lib.http.schemas.incidents import Incident, IncidentShaper
from lib.metric_labels import metric_label
from lib.sim import (
    ARCHITECTURES,
    ENVIRONMENTS,
    METRICS,
    REGIONS,
    ROLES,
    UNITS,
    LogLine,
    Process,
)
from lib.store.db import AlertRecord

LEVEL_NAMES = ("normal", "warning", "critical")
HOUR_S, DAY_S = 3600, 86_400
HISTORY_MAX_S = 7 * DAY_S
MAX_POINTS = 2000
LogLevel = Literal["INFO", "WARN", "ERROR"]


class ServerSpec(BaseModel):
    role: RoleName
    region: RegionName
    env: EnvName
    arch: Literal[ARCHITECTURES]  # type: ignore[valid-type]
    cores: int
    memory_gb: int
    disk_gb: int


class MetricReading(BaseModel):
    """A metric now, with the thresholds the detector holds it to (null: none in force)."""

    metric: MetricName
    unit: str
    label: Text
    value: float
    baseline: float | None
    warning: float | None
    critical: float | None
    score: float = Field(description="Anomaly score, 0..1 (0.5 warning, 0.8 critical).")
    level: Literal["normal", "warning", "critical"]


class ServerDetail(BaseModel):
    id: str = Field(examples=["db-01"])
    bucket: int
    at: datetime
    spec: ServerSpec
    status: StatusName
    health: float
    metrics: list[MetricReading]
    alerts: list[Alert] = Field(description="Its alerts open now.")
    incidents: list[Incident] = Field(description="Open incidents that reach it.")
    dependencies: list[str] = Field(description="Servers it calls.")
    dependents: list[str] = Field(description="Servers that call it.")
    summary: Text


class HistoryQuery(BaseModel):
    metric: MetricName
    from_: Instant | None = Field(None, alias="from", description="Default: an hour before 'to'.")
    to: Instant | None = Field(None, description="Default and latest: now.")
    step: int | None = Field(
        None,
        ge=1,
        le=HISTORY_MAX_S,
        description="Seconds per point, from a bucket to the longest range (7 days); a step "
        "longer than the range gives one point. Default: what fits max_points.",
    )
    max_points: int = Field(500, ge=1, le=MAX_POINTS)


class HistoryPoint(BaseModel):
    at: datetime
    bucket: int = Field(description="First bucket of the step.")
    value: float = Field(description="Mean over the step.")
    max: float = Field(description="Highest value in the step.")
    baseline: float | None
    warning: float | None
    critical: float | None


class ServerHistory(BaseModel):
    server: str
    metric: MetricName
    unit: str
    adaptive: bool = Field(description="Learned bands (else the static 80/90 thresholds).")
    start: datetime
    end: datetime
    step_s: int
    points: list[HistoryPoint]


class LogsQuery(BaseModel):
    level: Annotated[list[LogLevel] | None, CommaList] = Field(
        None, description="Keep these levels (repeat or comma-separate)."
    )
    from_: Instant | None = Field(None, alias="from", description="Default: an hour before 'to'.")
    to: Instant | None = Field(None, description="Default and latest: now.")
    limit: int = Field(100, ge=1, le=500)
    cursor: str | None = Field(
        None, max_length=64, description="next_cursor of the previous page; replaces from/to."
    )


class LogEntry(BaseModel):
    at: datetime
    bucket: int
    level: LogLevel
    source: str
    message: str
    incident_id: str | None = Field(
        description="The simulator's label: which simulated failure wrote it (its scenario "
        "id), shown for the demo; diagnosis never reads it."
    )


class ServerLogs(BaseModel):
    server: str
    count: int
    entries: list[LogEntry] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as cursor for older entries; null: none.")


class ProcessesQuery(BaseModel):
    at: Instant | None = Field(None, description="Default and latest: now.")


class ProcessEntry(BaseModel):
    pid: int
    name: str
    user: str
    command: str
    cpu_pct: float = Field(description="Share of the server's CPU, in percent of the server.")
    memory_pct: float


class ServerProcesses(BaseModel):
    server: str
    at: datetime
    bucket: int
    cpu_pct: float
    memory_pct: float
    processes: list[ProcessEntry] = Field(description="Busiest CPU first.")


def server_detail(read: Reading, server: int, records: Sequence[AlertRecord]) -> ServerDetail:
    """The server now; ``records`` are its stored open alerts (they add values and who
    acknowledged)."""
    view = read.view
    f = view.fleet
    series = {name: view.series(name)[server] for name in ("baseline", "warn_upper", "crit_upper")}
    score = view.series("score")[server]
    level = view.detection.level[0].reshape(f.size, len(METRICS))[server]
    readings = [
        MetricReading(
            metric=m,
            unit=UNITS[m],
            label=Text(**dict(zip(("en", "ko"), metric_label(m), strict=True))),
            value=round(float(view.values[server, k]), 3),
            baseline=finite(series["baseline"][k]),
            warning=finite(series["warn_upper"][k]),
            critical=finite(series["crit_upper"][k]),
            score=round(float(score[k]), 4),
            level=LEVEL_NAMES[int(level[k])],  # type: ignore[arg-type]
        )
        for k, m in enumerate(METRICS)
    ]
    sid = f.ids[server]
    alerts = [a for a in merged_alerts(read, records) if a.live and a.server == sid]
    incidents = [i for i in IncidentShaper(read).merged(()) if i.open and sid in i.servers]
    status, health = view.status_name(server), round(float(view.health[server]), 1)
    return ServerDetail(
        id=sid,
        bucket=view.bucket,
        at=read.time_of(view.bucket),
        spec=ServerSpec(
            role=ROLES[f.role[server]],
            region=REGIONS[f.region[server]],
            env=ENVIRONMENTS[f.env[server]],
            arch=ARCHITECTURES[f.arch[server]],
            cores=int(f.cores[server]),
            memory_gb=int(f.memory_gb[server]),
            disk_gb=int(f.disk_gb[server]),
        ),
        status=status,
        health=health,
        metrics=readings,
        alerts=alerts,
        incidents=incidents,
        dependencies=[f.ids[i] for i in f.dependencies(server)],
        dependents=[f.ids[i] for i in f.dependents(server)],
        summary=Text(
            en=f"{sid} ({ROLES[f.role[server]]}, {REGIONS[f.region[server]]}) is {status}, "
            f"health {health:.1f}; {len(alerts)} open alert(s), {len(incidents)} incident(s).",
            ko=f"{sid}({ROLES[f.role[server]]}, {REGIONS[f.region[server]]}) 상태 "
            f"{STATUS_KO[status]}, 건강도 {health:.1f} · 열린 알림 {len(alerts)}건, "
            f"장애 {len(incidents)}건",
        ),
    )


def history_step(query: HistoryQuery, b0: int, b1: int, bucket_seconds: int) -> int:
    """Buckets per point: ``step`` rounded up to whole buckets, or what fits ``max_points``."""
    if query.step is None:
        return max(1, math.ceil((b1 - b0) / query.max_points))
    if query.step < bucket_seconds:
        raise ValidationError(f"step must be at least a bucket ({bucket_seconds} s)", field="step")
    # Never more than the range: the work then depends on the range alone, not on ``step``.
    step = min(math.ceil(query.step / bucket_seconds), b1 - b0)
    if math.ceil((b1 - b0) / step) > MAX_POINTS:
        raise ValidationError(f"step gives more than {MAX_POINTS} points", field="step")
    return step


def server_history(
    read: Reading, server: int, metric: str, history: MetricHistory, adaptive: bool
) -> ServerHistory:
    step = history.step
    n = history.mean.size
    buckets = (history.b0 + step * np.arange(n)).tolist()
    columns = (history.mean, history.peak, history.baseline, history.warn_upper, history.crit_upper)
    points = [
        HistoryPoint(
            at=read.time_of(b),
            bucket=b,
            value=round(v, 4),
            max=round(p, 4),
            baseline=finite(base, 4),
            warning=finite(w, 4),
            critical=finite(c, 4),
        )
        for b, v, p, base, w, c in zip(buckets, *(c.tolist() for c in columns), strict=True)
    ]
    return ServerHistory(
        server=read.fleet.ids[server],
        metric=metric,
        unit=UNITS[metric],
        adaptive=adaptive,
        start=read.time_of(history.b0),
        end=read.time_of(history.b1),
        step_s=step * read.fleet.bucket_seconds,
        points=points,
    )


def log_range(read: Reading, query: LogsQuery) -> tuple[int, int, int]:
    """``(b0, b1, skip)``: the buckets to read and how many newest lines earlier pages took."""
    if query.cursor is None:
        b0, b1 = read.bucket_range(query.from_, query.to, default_s=HOUR_S, max_s=DAY_S)
        return b0, b1, 0
    try:
        b0, b1, skip = (int(part) for part in query.cursor.split("."))
    except ValueError as exc:
        raise ValidationError("malformed cursor", field="cursor") from exc
    longest = DAY_S // read.fleet.bucket_seconds
    if skip < 0 or not (0 < b1 - b0 <= longest and b1 <= read.bucket + 1):
        raise ValidationError("malformed cursor", field="cursor")
    try:
        read.time_of(b0)
    except (OverflowError, OSError, ValueError) as exc:
        # Lines lie in [b0, b1) and b1 is at most now: if b0 has a date, every line has one.
        raise ValidationError("cursor out of range", field="cursor") from exc
    return b0, b1, skip


def server_logs(
    read: Reading, server: int, lines: tuple[LogLine, ...], query: LogsQuery, span: tuple[int, ...]
) -> ServerLogs:
    b0, b1, skip = span
    kept = [x for x in reversed(lines) if query.level is None or x.level in query.level]
    page = kept[skip : skip + query.limit]
    more = skip + len(page) < len(kept)
    return ServerLogs(
        server=read.fleet.ids[server],
        count=len(page),
        entries=[
            LogEntry(
                at=datetime.fromtimestamp(x.ts_s, UTC),
                bucket=x.bucket,
                level=x.level,  # type: ignore[arg-type]
                source=x.source,
                message=x.message,
                incident_id=x.incident_id,
            )
            for x in page
        ],
        next_cursor=f"{b0}.{b1}.{skip + len(page)}" if more else None,
    )


def server_processes(
    read: Reading, server: int, bucket: int, found: tuple[Process, ...]
) -> ServerProcesses:
    return ServerProcesses(
        server=read.fleet.ids[server],
        at=read.time_of(bucket),
        bucket=bucket,
        cpu_pct=round(sum(p.cpu_pct for p in found), 3),
        memory_pct=round(sum(p.memory_pct for p in found), 3),
        processes=[
            ProcessEntry(
                pid=p.pid,
                name=p.name,
                user=p.user,
                command=p.command,
                cpu_pct=round(p.cpu_pct, 3),
                memory_pct=round(p.memory_pct, 3),
            )
            for p in found
        ],
    )
