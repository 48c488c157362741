"""``/api/analytics/{correlations,trends,forecast}``: figures over a recent window.

Windows longer than ``MAX_SAMPLES`` buckets are averaged into equal steps first (oldest
leftover buckets dropped), so a day of the fleet costs the same analysis as a few hours.
Slopes, lags and horizons are reported in seconds and hours whatever the step.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from lib.analysis import (
    TREND_NAMES,
    CorrelatedPair,
    correlation_matrix,
    forecast_linear,
    linear_trends,
    strongest_pairs,
    time_to_threshold,
)
from lib.http.reads import Reading
from lib.http.schemas.fields import CommaList, MetricName, ServerId, Text, finite
from lib.metric_labels import metric_label
from lib.sim import METRIC_INDEX, PERCENT_METRICS, UNITS

Window = Literal["15m", "1h", "6h", "24h"]
WINDOW_S: dict[str, int] = {"15m": 900, "1h": 3600, "6h": 21_600, "24h": 86_400}
MAX_SAMPLES = 1440
MAX_FORECAST_POINTS = 120
# A drift smaller than this share of the series' level per hour is not worth a word.
MIN_RELATIVE_SLOPE_PER_HOUR = 0.01


class CorrelationQuery(BaseModel):
    server: ServerId | None = Field(
        None, description="Correlate this server's metrics; without it, servers on one metric."
    )
    metrics: Annotated[list[MetricName] | None, CommaList] = Field(
        None, description="Metrics (with server; default all) or the one metric (without)."
    )
    window: Window = "1h"
    max_lag_s: int = Field(60, ge=0, le=900, description="Largest lead/lag searched, seconds.")
    top: int = Field(5, ge=1, le=50, description="Strongest pairs returned.")
    min_r: float = Field(0.5, ge=0.0, le=1.0, description="Weaker pairs are left out.")


class CorrelationPairOut(BaseModel):
    leader: str = Field(description="Moves first (or either, with lag 0).")
    follower: str
    r: float = Field(description="Pearson correlation at the best lag, -1..1.")
    lag_s: float = Field(description="How far the leader moves ahead, seconds.")
    summary: Text


class CorrelationResponse(BaseModel):
    mode: Literal["metrics", "servers"] = Field(
        description="metrics: one server's metrics; servers: one metric across servers."
    )
    server: str | None
    metric: MetricName | None
    window_s: int
    step_s: int = Field(description="Seconds each sample averages.")
    start: datetime
    end: datetime
    labels: list[str] = Field(description="Rows and columns of the matrix.")
    matrix: list[list[float]]
    pairs: list[CorrelationPairOut] = Field(description="Strongest first.")
    summary: Text


class TrendQuery(BaseModel):
    server: ServerId | None = Field(None, description="Default: every server.")
    metric: MetricName | None = Field(None, description="Default: every metric.")
    window: Window = "1h"


class TrendRow(BaseModel):
    server: str
    metric: MetricName
    unit: str
    slope_per_hour: float = Field(description="In the metric's unit per hour.")
    r2: float
    label: Literal["increasing", "decreasing", "stable"]
    mean: float = Field(description="Mean over the window.")


class TrendResponse(BaseModel):
    window_s: int
    step_s: int
    start: datetime
    end: datetime
    trends: list[TrendRow]
    summary: Text


class ForecastQuery(BaseModel):
    metric: MetricName = "disk_pct"
    server: ServerId | None = Field(
        None, description="Required except for disk_pct (then every server's time to full)."
    )
    horizon: int = Field(3600, ge=60, le=7 * 86_400, description="Seconds ahead.")
    window: Window = Field("6h", description="History the line is fitted on.")
    level: float = Field(0.95, gt=0.5, lt=1.0, description="Prediction interval coverage.")


class ForecastPoint(BaseModel):
    at: datetime
    bucket: int
    mean: float
    lower: float
    upper: float


class TimeToFull(BaseModel):
    server: str
    disk_pct: float = Field(description="Disk usage now.")
    hours: float | None = Field(description="Until 100 % at the current trend; null: not filling.")
    summary: Text


class ForecastResponse(BaseModel):
    metric: MetricName
    unit: str
    server: str | None
    window_s: int
    horizon_s: int
    level: float
    slope_per_hour: float | None = Field(description="Trend of the fitted line (with server).")
    points: list[ForecastPoint] = Field(description="With a server: the forecast ahead.")
    time_to_full: list[TimeToFull] = Field(description="disk_pct only: per server.")
    summary: Text


def window_step(read: Reading, window: str) -> tuple[int, int, int]:
    """``(b0, b1, step)``: the window's buckets, ending now, and the buckets per sample."""
    b1 = read.bucket + 1
    n = WINDOW_S[window] // read.fleet.bucket_seconds
    return b1 - n, b1, max(1, math.ceil(n / MAX_SAMPLES))


def block_means(x: npt.NDArray[np.float32], step: int) -> npt.NDArray[np.float64]:
    """Means of ``step`` consecutive rows of ``x`` (``[T, ...]``), the oldest leftover dropped."""
    usable = x.shape[0] - x.shape[0] % step
    rows = x[x.shape[0] - usable :]
    return rows.reshape(usable // step, step, *x.shape[1:]).mean(axis=1, dtype=np.float64)


def _pair_text(pair: CorrelatedPair, lag_s: float) -> Text:
    a, b, r = pair.leader_label, pair.follower_label, f"r={pair.r:+.2f}"
    if lag_s:
        return Text(
            en=f"{a} leads {b} by {lag_s:g} s ({r})", ko=f"{a} → {b}: {lag_s:g}초 선행 ({r})"
        )
    if pair.r > 0:
        return Text(
            en=f"{a} and {b} move together ({r})", ko=f"{a} ↔ {b}: 같은 방향으로 변동 ({r})"
        )
    return Text(
        en=f"{a} and {b} move in opposite directions ({r})",
        ko=f"{a} ↔ {b}: 반대 방향으로 변동 ({r})",
    )


def correlations(
    read: Reading,
    query: CorrelationQuery,
    samples: npt.NDArray[np.float64],
    labels: list[str],
    span: tuple[int, int, int],
    metric: str | None,
) -> CorrelationResponse:
    """``samples`` is ``float64[T, K]`` (averaged by ``span``'s step), one column per label:
    one server's metrics, or ``metric`` across servers."""
    b0, b1, step = span
    step_s = step * read.fleet.bucket_seconds
    pairs = strongest_pairs(
        samples, labels, k=query.top, max_lag=query.max_lag_s // step_s, min_abs_r=query.min_r
    )
    out = [
        CorrelationPairOut(
            leader=p.leader_label,
            follower=p.follower_label,
            r=round(p.r, 3),
            lag_s=p.lag_buckets * step_s,
            summary=_pair_text(p, p.lag_buckets * step_s),
        )
        for p in pairs
    ]
    what = "metrics" if metric is None else "servers"
    top = out[0].summary if out else None
    return CorrelationResponse(
        mode=what,
        server=query.server,
        metric=metric,
        window_s=WINDOW_S[query.window],
        step_s=step_s,
        start=read.time_of(b0),
        end=read.time_of(b1),
        labels=labels,
        matrix=np.round(correlation_matrix(samples), 3).tolist(),
        pairs=out,
        summary=Text(
            en=f"{len(out)} strongly correlated pair(s) of {what}"
            + (f"; strongest: {top.en}" if top else ""),
            ko=f"강한 상관관계 {len(out)}쌍" + (f" · 가장 강함: {top.ko}" if top else ""),
        ),
    )


def trends(
    read: Reading,
    query: TrendQuery,
    samples: npt.NDArray[np.float64],
    series: list[tuple[str, str]],
    span: tuple[int, int, int],
) -> TrendResponse:
    """``samples`` is ``float64[T, K]``; ``series`` names each column ``(server, metric)``."""
    b0, b1, step = span
    step_s = step * read.fleet.bucket_seconds
    level = np.abs(samples.mean(axis=0))
    found = linear_trends(samples, step_s, min_slope_per_hour=MIN_RELATIVE_SLOPE_PER_HOUR * level)
    names = found.names
    rows = [
        TrendRow(
            server=server,
            metric=metric,  # type: ignore[arg-type]
            unit=UNITS[metric],
            slope_per_hour=round(slope, 4),
            r2=round(r2, 3),
            label=name,  # type: ignore[arg-type]
            mean=round(mean, 3),
        )
        for (server, metric), slope, r2, name, mean in zip(
            series,
            found.slope_per_hour.tolist(),
            found.r2.tolist(),
            names,
            samples.mean(axis=0).tolist(),
            strict=True,
        )
    ]
    up, down = names.count(TREND_NAMES[1]), names.count(TREND_NAMES[-1])
    return TrendResponse(
        window_s=WINDOW_S[query.window],
        step_s=step_s,
        start=read.time_of(b0),
        end=read.time_of(b1),
        trends=rows,
        summary=Text(
            en=f"Over {query.window}: {up} series increasing, {down} decreasing, "
            f"{len(rows) - up - down} stable.",
            ko=f"최근 {query.window}: 증가 {up}개, 감소 {down}개, 안정 {len(rows) - up - down}개",
        ),
    )


def _bounded(metric: str, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Forecasts stay where the metric can be: never negative, percentages at most 100."""
    return np.clip(x, 0.0, 100.0 if metric in PERCENT_METRICS else np.inf)


def forecast_points(
    read: Reading, query: ForecastQuery, y: npt.NDArray[np.float64], step: int
) -> tuple[list[ForecastPoint], float]:
    """The forecast after bucket ``read.bucket`` from samples ``y`` (``float64[T]``, ``step``
    buckets each), and the fitted slope per hour."""
    step_s = step * read.fleet.bucket_seconds
    ahead = max(1, math.ceil(query.horizon / step_s))
    fc = forecast_linear(y[:, None], ahead, query.level)
    every = max(1, math.ceil(ahead / MAX_FORECAST_POINTS))
    keep = np.unique(np.r_[np.arange(every - 1, ahead, every), ahead - 1])
    mean, lower, upper = (_bounded(query.metric, a[keep, 0]) for a in (fc.mean, fc.lower, fc.upper))
    buckets = read.bucket + (keep + 1) * step
    points = [
        ForecastPoint(at=read.time_of(b), bucket=b, mean=round(m, 3), lower=round(lo, 3),
                      upper=round(hi, 3))
        for b, m, lo, hi in zip(buckets.tolist(), mean.tolist(), lower.tolist(), upper.tolist(),
                                strict=True)
    ]  # fmt: skip
    slope = linear_trends(y[:, None], step_s).slope_per_hour[0]
    return points, float(slope)


def times_to_full(
    read: Reading, servers: list[int], disk: npt.NDArray[np.float64], step: int
) -> list[TimeToFull]:
    """Hours until each server's ``disk_pct`` (``disk``: ``float64[T, server]``) reaches 100."""
    hours = time_to_threshold(disk, 100.0, step * read.fleet.bucket_seconds)
    out = []
    for s, h, now in zip(servers, hours.tolist(), disk[-1].tolist(), strict=True):
        sid = read.fleet.ids[s]
        when = finite(h, 2)
        out.append(
            TimeToFull(
                server=sid,
                disk_pct=round(now, 3),
                hours=when,
                summary=Text(
                    en=f"{sid} disk {now:.1f}% "
                    + ("not filling" if when is None else f"full in {when:g} h"),
                    ko=f"{sid} 디스크 {now:.1f}% "
                    + ("증가 추세 없음" if when is None else f"{when:g}시간 후 가득 참"),
                ),
            )
        )
    return out


def forecast_summary(
    query: ForecastQuery, server: str | None, slope: float | None, full: list[TimeToFull]
) -> Text:
    en_metric, ko_metric = metric_label(query.metric)
    if server is None:
        filling = sorted((t for t in full if t.hours is not None), key=lambda t: t.hours or 0.0)
        if not filling:
            return Text(en="No disk is filling up.", ko="디스크 사용량이 증가하는 서버가 없습니다.")
        first = filling[0]
        return Text(
            en=f"{len(filling)} disk(s) filling; first full: {first.summary.en}.",
            ko=f"디스크 증가 서버 {len(filling)}대 · 가장 먼저: {first.summary.ko}",
        )
    per_hour = f"{slope:+.3g} {UNITS[query.metric]}/h" if slope is not None else "n/a"
    return Text(
        en=f"{server} {en_metric}: trend {per_hour}, forecast {query.horizon // 60} min ahead.",
        ko=f"{server} {ko_metric}: 추세 {per_hour}, {query.horizon // 60}분 후까지 예측",
    )


def forecast(
    read: Reading,
    query: ForecastQuery,
    servers: list[int],
    samples: npt.NDArray[np.float64],
    step: int,
) -> ForecastResponse:
    """``samples`` is ``float64[T, server, metric]`` for ``servers`` (one when a server is
    asked for), averaged over ``step`` buckets."""
    server = None if query.server is None else read.fleet.ids[servers[0]]
    y = samples[:, :, METRIC_INDEX[query.metric]]
    points, slope = forecast_points(read, query, y[:, 0], step) if server else ([], None)
    full = times_to_full(read, servers, y, step) if query.metric == "disk_pct" else []
    return ForecastResponse(
        metric=query.metric,
        unit=UNITS[query.metric],
        server=server,
        window_s=WINDOW_S[query.window],
        horizon_s=query.horizon,
        level=query.level,
        slope_per_hour=None if slope is None else round(slope, 4),
        points=points,
        time_to_full=full,
        summary=forecast_summary(query, server, slope, full),
    )
