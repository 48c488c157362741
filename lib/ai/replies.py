"""One function per intent: the facts computed from ``FleetData``, written in Korean and English.

Every number in a reply is recorded as a ``Figure`` as it is written (``Draft.metric``), from
the data of the answer's bucket, rounded as shown. Nothing here knows the simulator's truth:
root causes come from the engine's open alerts ranked by ``lib.analysis.rank_root_causes``
along the topology, or from the engine's own diagnosis when an incident carries one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from lib.ai.data import Draft, FleetData, Reply
from lib.ai.intents import DEFAULT_TOP_N, Query
from lib.alerts.summary import subject_particle
from lib.analysis import (
    STATUS_NAMES,
    RootCandidate,
    fleet_health,
    linear_trends,
    rank_root_causes,
    status_counts,
    time_to_threshold,
    upstream_of,
)
from lib.metric_labels import metric_label
from lib.sim import FAILURE_TYPES, METRIC_INDEX, METRICS, REGIONS, ROLES, UNITS

STATUS_KO = {"healthy": "정상", "warning": "경고", "critical": "심각", "offline": "오프라인"}
ROLE_KO = {"loadbalancer": "로드밸런서", "web": "웹", "api": "API", "database": "데이터베이스",
           "cache": "캐시", "queue": "큐"}  # fmt: skip
REGION_KO = {"us-east-1": "us-east-1(버지니아)", "us-west-2": "us-west-2(오레곤)",
             "eu-west-1": "eu-west-1(아일랜드)", "ap-southeast-1": "ap-southeast-1(싱가포르)",
             "ap-northeast-2": "ap-northeast-2(서울)"}  # fmt: skip
AGG_KO = {"mean": "평균", "max": "최대", "min": "최소", "sum": "합계"}
AGG_EN = {"mean": "average", "max": "maximum", "min": "minimum", "sum": "total"}
KEY_METRICS = ("cpu_pct", "memory_pct", "disk_pct", "response_ms", "error_pct")
MAX_LISTED = 10
CHART_POINTS = 60
FORECAST_HORIZON_H = 72.0


_PARTICLES = {"이": ("이", "가"), "은": ("은", "는"), "과": ("과", "와")}


def particle(word: str, kind: str) -> str:
    """The Korean particle ``kind`` (이, 은 or 과) as ``word`` takes it: 률이, 연이 → 지연이."""
    after_consonant, after_vowel = _PARTICLES[kind]
    subject = subject_particle(word)
    if subject == "이(가)":
        return f"{after_consonant}({after_vowel})"
    return after_consonant if subject == "이" else after_vowel


def label(metric: str) -> tuple[str, str]:
    """(Korean, English) name of a metric."""
    en, ko = metric_label(metric)
    return ko, en


def _scope(q: Query, d: FleetData) -> npt.NDArray[np.intp]:
    keep = np.ones(d.size, dtype=bool)
    if q.roles:
        keep &= np.isin(d.role, [ROLES.index(r) for r in q.roles])
    if q.regions:
        keep &= np.isin(d.region, [REGIONS.index(r) for r in q.regions])
    return np.flatnonzero(keep)


def _scope_words(q: Query) -> tuple[str, str]:
    """How the scope reads: ('서울 리전 웹 서버', 'web servers in ap-northeast-2')."""
    roles_ko = "·".join(ROLE_KO[r] for r in q.roles)
    roles_en = "/".join(q.roles)
    regions_ko = "·".join(REGION_KO[r] for r in q.regions)
    regions_en = ", ".join(q.regions)
    ko = " ".join(p for p in (f"{regions_ko} 리전" if q.regions else "", roles_ko) if p)
    ko = f"{ko} 서버" if ko else "전체 서버"
    en = f"{roles_en} servers" if q.roles else "servers"
    if q.regions:
        en += f" in {regions_en}"
    return ko, en


def _order(values: npt.NDArray[np.float64], ids: tuple[str, ...], chosen: npt.NDArray[np.intp],
           *, descending: bool) -> npt.NDArray[np.intp]:  # fmt: skip
    """``chosen`` sorted by value (ties by id), as the fleet API sorts."""
    key = -values[chosen] if descending else values[chosen]
    id_rank = np.argsort(np.argsort(np.array(ids)))[chosen]
    return chosen[np.lexsort((id_rank, key))]


def _line_chart(d: FleetData, server: int, metric: str) -> dict[str, Any] | None:
    """The recent history of one series, at most ``CHART_POINTS`` means, for the dashboard:
    ``{"type": "line", "server", "metric", "title", "points": [{"x": bucket, "value"}]}``."""
    if d.history is None or d.history_start is None:
        return None
    series = d.history[:, server, METRIC_INDEX[metric]].astype(np.float64)
    size = -(-series.size // CHART_POINTS)
    usable = series.size - series.size % size
    means = series[:usable].reshape(-1, size).mean(axis=1)
    points = [
        {"x": d.history_start + k * size, "value": round(float(v), 3)} for k, v in enumerate(means)
    ]
    title = f"{d.ids[server]} · {metric}"
    return {
        "type": "line",
        "server": d.ids[server],
        "metric": metric,
        "title": title,
        "points": points,
    }


def _unknown(d: FleetData, missing: list[str]) -> Reply:
    draft = Draft()
    names = ", ".join(missing)
    draft.line(
        f"{names} 서버를 찾을 수 없습니다. 이 플릿의 서버는 {d.ids[0]} … {d.ids[-1]} 입니다.",
        f"There is no server {names} in this fleet (servers run {d.ids[0]} … {d.ids[-1]}).",
    )
    draft.name(d.ids[0], d.ids[-1])
    return draft.reply()


def _servers(q: Query, d: FleetData) -> tuple[list[int], list[str]]:
    found, missing = [], []
    for s in q.servers:
        i = d.index(s)
        (missing.append(s) if i is None else found.append(i))
    return found, missing


# -- the intents -------------------------------------------------------------------------


def summary(q: Query, d: FleetData) -> Reply:
    """The fleet's (or a role's or region's) servers by status, health, incidents, alerts."""
    draft = Draft()
    chosen = _scope(q, d)
    scoped = chosen.size < d.size
    scope_ko, scope_en = _scope_words(q) if scoped else ("서버", "servers")
    counts = status_counts(d.status[chosen])
    n = draft.number("servers", chosen.size, "servers")
    parts_ko, parts_en = [], []
    for s in STATUS_NAMES:
        c = draft.number(f"servers_{s}", counts[s], "servers")
        parts_ko.append(f"{STATUS_KO[s]} {c}대")
        parts_en.append(f"{c} {s}")
    score = fleet_health(d.health[chosen], d.status[chosen]).score if scoped else d.fleet_health
    health = draft.number("fleet_health", score, "score", 1)
    inc = draft.number("active_incidents", d.active_incidents, "incidents")
    alerts = draft.number("open_alerts", len(d.alerts), "alerts")
    draft.line(
        f"{d.at} 기준 {scope_ko} {n}대: {', '.join(parts_ko)}. 건강도 {health}. "
        f"전체 진행 중인 장애 {inc}건, 열린 알림 {alerts}건입니다.",
        f"At {d.at}: {n} {scope_en}, {', '.join(parts_en)}; health {health}. "
        f"Fleet-wide: {inc} active incident(s), {alerts} open alert(s).",
    )
    by_health = chosen[np.lexsort((chosen, d.health[chosen]))]
    worst = [int(i) for i in by_health[:3] if d.status[i] > 0]
    if worst:
        ko, en = [], []
        for i in worst:
            h = draft.number("health", float(d.health[i]), "score", 1, d.ids[i])
            st = STATUS_NAMES[int(d.status[i])]
            ko.append(f"{d.ids[i]}({STATUS_KO[st]}, 건강도 {h})")
            en.append(f"{d.ids[i]} ({st}, health {h})")
        draft.line(f"주의가 필요한 서버: {', '.join(ko)}.", f"Needing attention: {', '.join(en)}.")
    else:
        draft.line("모든 서버가 정상입니다.", "Every server is healthy.")
    draft.chart = {"type": "status", "counts": counts}
    draft.analysed(
        f"상태별 집계 {counts}, 건강도 {health}",
        f"status counts {counts}, health {health}",
    )
    return draft.reply()


def top_n(q: Query, d: FleetData) -> Reply:
    metric = q.metric or "cpu_pct"
    n = q.n or DEFAULT_TOP_N
    chosen = _scope(q, d)
    draft = Draft()
    ko_m, en_m = label(metric)
    scope_ko, scope_en = _scope_words(q)
    if chosen.size == 0:
        draft.line(f"{scope_ko}가 없습니다.", f"There are no {scope_en}.")
        return draft.reply()
    col = d.values[:, METRIC_INDEX[metric]]
    ranked = _order(col, d.ids, chosen, descending=not q.lowest)[:n]
    items = [f"{d.ids[i]} {draft.metric(metric, col[i], d.ids[i])}" for i in ranked]
    n_shown = draft.number("servers", len(items), "servers")
    which_ko = "낮은" if q.lowest else "높은"
    which_en = "lowest" if q.lowest else "highest"
    draft.line(
        f"{d.at} 기준 {scope_ko} 중 {ko_m}{particle(ko_m, '이')} 가장 {which_ko} {n_shown}대: "
        + ", ".join(items)
        + ".",
        f"At {d.at}, the {n_shown} {scope_en} with the {which_en} {en_m}: "
        + ", ".join(items)
        + ".",
    )
    draft.chart = {
        "type": "bar",
        "metric": metric,
        "servers": [d.ids[i] for i in ranked],
        "values": [f.value for f in draft.figures],
    }
    draft.analysed(
        f"{chosen.size}대를 {metric} 기준으로 정렬", f"sorted {chosen.size} servers by {metric}"
    )
    return draft.reply()


def _matching(q: Query, d: FleetData) -> tuple[npt.NDArray[np.intp], str, str]:
    """Servers in scope meeting the condition or status, and how the condition reads."""
    chosen = _scope(q, d)
    ko, en = _scope_words(q)
    if q.condition is not None:
        c = q.condition
        col = d.values[chosen, METRIC_INDEX[c.metric]]
        keep = col > c.value if c.op == ">" else col < c.value
        chosen = chosen[keep]
        ko_m, en_m = label(c.metric)
        unit = "%" if c.metric.endswith("_pct") else ""
        ko += f" 중 {ko_m} {c.value:g}{unit} {'초과' if c.op == '>' else '미만'}"
        en += f" with {en_m} {'above' if c.op == '>' else 'below'} {c.value:g}{unit}"
    if q.status is not None:
        chosen = chosen[d.status[chosen] == STATUS_NAMES.index(q.status)]
        ko += f" 중 {STATUS_KO[q.status]} 상태"
        en += f" in {q.status} state"
    return chosen, ko, en


def filter_(q: Query, d: FleetData) -> Reply:
    chosen, ko, en = _matching(q, d)
    draft = Draft()
    count = draft.number("servers", chosen.size, "servers")
    if chosen.size == 0:
        draft.line(f"{d.at} 기준 {ko}인 서버는 없습니다.", f"At {d.at}, there are no {en}.")
        return draft.reply()
    metric = q.condition.metric if q.condition else (q.metric or "cpu_pct")
    col = d.values[:, METRIC_INDEX[metric]]
    ranked = _order(col, d.ids, chosen, descending=True)
    shown = ranked[:MAX_LISTED]
    items = [f"{d.ids[i]} {draft.metric(metric, col[i], d.ids[i])}" for i in shown]
    more = chosen.size - shown.size
    more_n = draft.number("servers_not_listed", more, "servers") if more > 0 else ""
    more_ko = f" 외 {more_n}대" if more > 0 else ""
    more_en = f" and {more_n} more" if more > 0 else ""
    draft.line(
        f"{d.at} 기준 {ko}인 서버 {count}대: {', '.join(items)}{more_ko}.",
        f"At {d.at}, {count} {en}: {', '.join(items)}{more_en}.",
    )
    draft.chart = {"type": "bar", "metric": metric, "servers": [d.ids[i] for i in shown]}
    draft.analysed(f"조건에 맞는 서버 {count}대", f"{count} servers match")
    return draft.reply()


def count(q: Query, d: FleetData) -> Reply:
    chosen, ko, en = _matching(q, d)
    draft = Draft()
    n = draft.number("servers", chosen.size, "servers")
    total = draft.number("servers_total", d.size, "servers")
    draft.line(
        f"{d.at} 기준 {ko}는 {n}대입니다 (전체 {total}대 중).",
        f"At {d.at} there are {n} {en} (of {total}).",
    )
    if 0 < chosen.size <= MAX_LISTED:
        draft.name(*(d.ids[i] for i in chosen))
        names = ", ".join(d.ids[i] for i in chosen)
        draft.line(f"해당 서버: {names}.", f"They are: {names}.")
    draft.analysed(f"조건에 맞는 서버 {n}대", f"{n} servers match")
    return draft.reply()


def _trend_lines(draft: Draft, d: FleetData, i: int, metrics: tuple[str, ...]) -> None:
    if d.history is None or d.history.shape[0] < 3:
        return
    cols = [METRIC_INDEX[m] for m in metrics]
    trends = linear_trends(d.history[:, i, cols].astype(np.float64), d.bucket_seconds)
    minutes = draft.number("window_minutes", d.history.shape[0] * d.bucket_seconds / 60, "min")
    ko, en = [], []
    for k, m in enumerate(metrics):
        ko_m, en_m = label(m)
        word = int(trends.label[k])
        if word == 0:
            ko.append(f"{ko_m} 안정")
            en.append(f"{en_m} stable")
            continue
        slope = float(trends.slope_per_hour[k])
        digits = 2 if abs(slope) < 1 else 1
        shown = draft.number(f"{m}_slope_per_hour", slope, f"{UNITS[m]}/h", digits, d.ids[i])
        ko.append(f"{ko_m} {'상승' if word > 0 else '하락'} ({shown}/h)")
        en.append(f"{en_m} {'rising' if word > 0 else 'falling'} ({shown}/h)")
    draft.line(f"최근 {minutes}분 추세: {', '.join(ko)}.", f"Last {minutes} min: {', '.join(en)}.")


def server(q: Query, d: FleetData) -> Reply:
    found, missing = _servers(q, d)
    if missing:
        return _unknown(d, missing)
    draft = Draft()
    metrics = q.metrics or KEY_METRICS
    for i in found:
        sid = d.ids[i]
        st = STATUS_NAMES[int(d.status[i])]
        h = draft.number("health", float(d.health[i]), "score", 1, sid)
        shown = [draft.metric(m, d.value(i, m), sid) for m in metrics]
        items_ko = [f"{label(m)[0]} {v}" for m, v in zip(metrics, shown, strict=True)]
        items_en = [f"{label(m)[1]} {v}" for m, v in zip(metrics, shown, strict=True)]
        role, region = d.role_name(i), d.region_name(i)
        draft.line(
            f"{d.at} 기준 {sid}({ROLE_KO[role]}, {region})는 {STATUS_KO[st]} 상태, 건강도 {h}: "
            + ", ".join(items_ko)
            + ".",
            f"At {d.at}, {sid} ({role}, {region}) is {st}, health {h}: "
            + ", ".join(items_en)
            + ".",
        )
        alerts = [a for a in d.alerts if a.server == i]
        if alerts:
            ko = ", ".join(f"{label(a.metric)[0]}({a.level})" for a in alerts)
            en = ", ".join(f"{label(a.metric)[1]} ({a.level})" for a in alerts)
            draft.line(f"열린 알림: {ko}.", f"Open alerts: {en}.")
        _trend_lines(draft, d, i, tuple(metrics))
    draft.chart = _line_chart(d, found[0], metrics[0]) if found else None
    draft.analysed(
        f"{', '.join(d.ids[i] for i in found)}의 지표 {len(metrics)}개와 추세",
        f"{len(metrics)} metrics and trends of {', '.join(d.ids[i] for i in found)}",
    )
    return draft.reply()


def _aggregate(values: npt.NDArray[np.float64], fn: str) -> float:
    return float({"mean": np.mean, "max": np.max, "min": np.min, "sum": np.sum}[fn](values))


def aggregate(q: Query, d: FleetData) -> Reply:
    metric = q.metric or "cpu_pct"
    chosen = _scope(q, d)
    draft = Draft()
    scope_ko, scope_en = _scope_words(q)
    if chosen.size == 0:
        draft.line(f"{scope_ko}가 없습니다.", f"There are no {scope_en}.")
        return draft.reply()
    value = _aggregate(d.values[chosen, METRIC_INDEX[metric]], q.aggregate)
    shown = draft.metric(metric, value)
    n = draft.number("servers", chosen.size, "servers")
    ko_m, en_m = label(metric)
    draft.line(
        f"{d.at} 기준 {scope_ko} {n}대의 {AGG_KO[q.aggregate]} {ko_m}{particle(ko_m, '은')} "
        f"{shown}입니다.",
        f"At {d.at}, the {AGG_EN[q.aggregate]} {en_m} of {n} {scope_en} is {shown}.",
    )
    draft.analysed(
        f"{n}대의 {metric} {q.aggregate} 계산", f"{q.aggregate} of {metric} over {n} servers"
    )
    return draft.reply()


# -- root cause, incidents, report -----------------------------------------------------


def _candidates(d: FleetData) -> list[RootCandidate]:
    """Anomalous servers ranked as probable root causes, from the engine's open alerts."""
    onset = np.full(d.size, -1, dtype=np.int64)
    strength = np.zeros(d.size)
    for a in d.alerts:
        onset[a.server] = (
            a.fired_bucket if onset[a.server] < 0 else min(onset[a.server], a.fired_bucket)
        )
        strength[a.server] = max(strength[a.server], a.peak_score)
    return rank_root_causes(onset, strength, d.depends_on, d.ids)


def _diagnosed(d: FleetData, server: int | None) -> tuple[int, str, str] | None:
    """The engine's own diagnosis of an open incident touching ``server`` (or any), if any."""
    for inc in d.incidents:
        diag = inc.diagnosis
        if not inc.open or not diag or not diag.get("root_server"):
            continue
        if server is None or d.ids[server] in inc.servers:
            root = d.index(str(diag["root_server"]))
            if root is not None:
                return root, str(diag.get("summary_ko") or ""), str(diag.get("summary_en") or "")
    return None


def root_cause(q: Query, d: FleetData) -> Reply:
    found, missing = _servers(q, d)
    if missing:
        return _unknown(d, missing)
    draft = Draft()
    asked = found[0] if found else None
    candidates = _candidates(d)
    if asked is not None:
        sid = d.ids[asked]
        reach = upstream_of(d.depends_on, [asked])[0]
        upstream = [c for c in candidates if reach[c.server]]
        rt = draft.metric("response_ms", d.value(asked, "response_ms"), sid)
        st = STATUS_NAMES[int(d.status[asked])]
        draft.line(
            f"{d.at} 기준 {sid}는 {STATUS_KO[st]} 상태이며 응답 지연은 {rt}입니다.",
            f"At {d.at}, {sid} is {st} with a response time of {rt}.",
        )
    else:
        upstream = candidates
    diagnosis = _diagnosed(d, asked)
    if diagnosis is not None:
        root, text_ko, text_en = diagnosis
        draft.name(d.ids[root])
        draft.line(
            f"엔진 진단: 근본 원인은 {d.ids[root]}입니다. {text_ko}".strip(),
            f"Engine diagnosis: the root cause is {d.ids[root]}. {text_en}".strip(),
        )
        return draft.reply()
    if not upstream:
        if asked is None:
            draft.line(
                "현재 열린 알림이 없어 원인을 지목할 이상 서버가 없습니다.",
                "No alert is open, so no anomalous server points to a cause.",
            )
        else:
            draft.line(
                f"{d.ids[asked]}와 그 상위 의존 서버에는 열린 알림이 없어 "
                "이상 징후가 보이지 않습니다.",
                f"Neither {d.ids[asked]} nor anything it depends on has an open alert: "
                "no anomaly to explain.",
            )
        return draft.reply()
    top = upstream[0]
    rid = d.ids[top.server]
    metrics = sorted({a.metric for a in d.alerts if a.server == top.server})
    path = _path(d, asked, top.server) if asked is not None else []
    via = " → ".join(d.ids[s] for s in path)
    draft.name(*(d.ids[s] for s in path), rid)
    values = [draft.metric(m, d.value(top.server, m), rid) for m in metrics]
    shown = [f"{label(m)[0]} {v}" for m, v in zip(metrics, values, strict=True)]
    shown_en = [f"{label(m)[1]} {v}" for m, v in zip(metrics, values, strict=True)]
    lead_ko = f"의존 경로 {via}를 따라가면 " if len(path) > 1 else ""
    lead_en = f"Following the dependencies {via}, " if len(path) > 1 else ""
    draft.line(
        f"{lead_ko}가장 먼저 이상이 시작된 상위 원인은 {rid}입니다 ({', '.join(shown)}).",
        f"{lead_en}the earliest upstream anomaly is {rid} ({', '.join(shown_en)}).",
    )
    ko, en = _evidence(draft, d, top)
    draft.line(f"근거: {ko}.", f"Evidence: {en}.")
    for inc in d.incidents:
        if inc.open and rid in inc.servers:
            draft.line(
                f"관련 장애 {inc.id}({inc.type}), 상태 {inc.status}.",
                f"Related incident {inc.id} ({inc.type}), {inc.status}.",
            )
            break
    draft.chart = {"type": "topology", "path": [d.ids[s] for s in path] or [rid]}
    draft.analysed(
        f"열린 알림 {len(d.alerts)}건에서 이상 서버 {len(candidates)}대를 순위화",
        f"ranked {len(candidates)} anomalous servers from {len(d.alerts)} open alerts",
    )
    return draft.reply()


def _evidence(draft: Draft, d: FleetData, top: RootCandidate) -> tuple[str, str]:
    """Why ``top`` ranks first, every number a figure: when it began, how strong, who depends."""
    rid = d.ids[top.server]
    when = _time(d, top.onset_bucket)
    strength = draft.number("anomaly_strength", top.strength, "score", 2, rid)
    dependants = [d.ids[s] for s in top.dependants]
    draft.name(*dependants[:5])
    ko = f"{when}에 가장 먼저 이상 시작, 이상 강도 {strength}"
    en = f"anomalous first, from {when}, strength {strength}"
    if dependants:
        listed = ", ".join(dependants[:5])
        if len(dependants) > 5:
            n = draft.number("dependants_not_listed", len(dependants) - 5, "servers")
            listed_ko, listed_en = f"{listed} 외 {n}대", f"{listed} and {n} more"
        else:
            listed_ko = listed_en = listed
        ko += f", {listed_ko}의 상위 의존 서버"
        en += f", upstream of {listed_en}"
    return ko, en


def _path(d: FleetData, start: int, goal: int) -> list[int]:
    """A shortest dependency path from ``start`` to ``goal`` (breadth first)."""
    previous: dict[int, int] = {start: start}
    frontier = [start]
    while frontier and goal not in previous:
        nxt = []
        for s in frontier:
            for t in d.depends_on[s]:
                if t not in previous:
                    previous[t] = s
                    nxt.append(t)
        frontier = nxt
    if goal not in previous:
        return [start, goal] if start != goal else [start]
    path = [goal]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]


def incidents(q: Query, d: FleetData) -> Reply:
    draft = Draft()
    opened = [i for i in d.incidents if i.open]
    n_inc = draft.number("active_incidents", d.active_incidents, "incidents")
    n_alerts = draft.number("open_alerts", len(d.alerts), "alerts")
    if not opened and not d.alerts and d.active_incidents == 0:
        draft.line(
            f"{d.at} 기준 진행 중인 장애와 열린 알림이 없습니다.",
            f"At {d.at} nothing is on fire: no active incident, no open alert.",
        )
        return draft.reply()
    draft.line(
        f"{d.at} 기준 진행 중인 장애 {n_inc}건, 열린 알림 {n_alerts}건입니다.",
        f"At {d.at}: {n_inc} active incident(s), {n_alerts} open alert(s).",
    )
    for inc in opened[:MAX_LISTED]:
        draft.name(*inc.servers)
        servers = ", ".join(inc.servers[:5])
        draft.line(
            f"- {inc.id}: {inc.type}, {servers}, 상태 {inc.status}",
            f"- {inc.id}: {inc.type} on {servers}, {inc.status}",
        )
    levels = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    for a in sorted(d.alerts, key=lambda a: (levels.get(a.level, 4), a.fired_bucket))[:5]:
        sid = d.ids[a.server]
        shown = draft.metric(a.metric, d.value(a.server, a.metric), sid)
        ko_m, en_m = label(a.metric)
        draft.line(
            f"- 알림 {sid} {ko_m} {shown} ({a.level}, {a.state})",
            f"- alert {sid} {en_m} {shown} ({a.level}, {a.state})",
        )
    draft.analysed(
        f"장애 {n_inc}건, 알림 {n_alerts}건 확인", f"{n_inc} incidents, {n_alerts} alerts"
    )
    return draft.reply()


def report(q: Query, d: FleetData) -> Reply:
    draft = Draft()
    todays = sorted(d.incidents, key=lambda i: i.started_bucket)
    n = draft.number("incidents", len(todays), "incidents")
    if not todays:
        draft.line(
            f"{d.at}까지 오늘 기록된 장애가 없습니다.", f"No incident recorded today up to {d.at}."
        )
        return draft.reply()
    draft.line(
        f"장애 보고서 ({d.at} 기준, {n}건)", f"Incident report (as of {d.at}, {n} incident(s))"
    )
    candidates = _candidates(d)
    for inc in todays[:MAX_LISTED]:
        draft.name(*inc.servers)
        failure = FAILURE_TYPES.get(inc.type)
        n_servers = draft.number("servers", len(inc.servers), "servers")
        draft.line(
            f"■ {inc.id} — {inc.type} ({inc.status})", f"■ {inc.id} — {inc.type} ({inc.status})"
        )
        steps = [f"{_time(d, b)} {event}" for b, event, _ in inc.timeline] or [
            f"{_time(d, inc.started_bucket)} started"
        ]
        draft.line("  타임라인: " + "; ".join(steps), "  Timeline: " + "; ".join(steps))
        end = _impact_end(inc.timeline, d.bucket)
        minutes = draft.number(
            "duration_minutes", (end - inc.started_bucket) * d.bucket_seconds / 60, "min"
        )
        draft.line(
            f"  영향: 서버 {n_servers}대 ({', '.join(inc.servers[:6])}), {minutes}분",
            f"  Impact: {n_servers} server(s) ({', '.join(inc.servers[:6])}), {minutes} min",
        )
        root = inc.diagnosis.get("root_server") if inc.diagnosis else None
        if root is None:
            ranked = [c for c in candidates if d.ids[c.server] in inc.servers]
            root = d.ids[ranked[0].server] if ranked else None
        draft.line(
            f"  진단: 근본 원인 추정 {root}" if root else "  진단: 열린 알림이 없어 추정 불가",
            f"  Diagnosis: probable root {root}" if root else "  Diagnosis: no open alert to rank",
        )
        if root:
            draft.name(root)
        strategy = inc.strategy or (failure.recovery.name if failure else None)
        draft.line(
            f"  복구: {strategy or '수동 대응'}, 상태 {inc.status}",
            f"  Recovery: {strategy or 'manual'}, {inc.status}",
        )
        if failure is not None:
            draft.line(
                f"  후속 조치: {failure.recovery.description_ko}",
                f"  Follow-up: {failure.recovery.description_en}",
            )
    draft.analysed(f"장애 {n}건의 타임라인 정리", f"timelines of {n} incidents")
    return draft.reply()


def _impact_end(timeline: tuple[tuple[int, str, str], ...], now: int) -> int:
    """Where an incident stopped hurting: its first recovery or close since it last opened
    (a reopened leak hurts again), ``now`` while it is open."""
    end = None
    for b, event, _ in timeline:
        if event == "reopened":
            end = None
        elif event in ("recovered", "resolved", "closed") and end is None:
            end = b
    return now if end is None else end


def _time(d: FleetData, bucket: int) -> str:
    """``HH:MM`` (UTC) of ``bucket``, from the answer's own moment."""
    hh, mm = int(d.at[11:13]), int(d.at[14:16])
    minutes = (hh * 60 + mm + (bucket - d.bucket) * d.bucket_seconds // 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# -- forecast, correlation, comparison, recommendations ----------------------------------


def forecast(q: Query, d: FleetData) -> Reply:
    found, missing = _servers(q, d)
    if missing:
        return _unknown(d, missing)
    metric = q.metric if q.metric in ("memory_pct", "disk_pct") else "disk_pct"
    chosen = np.array(found, dtype=np.intp) if found else _scope(q, d)
    draft = Draft()
    ko_m, en_m = label(metric)
    if d.history is None or d.history.shape[0] < 3:
        draft.line("예측에 필요한 이력이 없습니다.", "There is no history to forecast from.")
        return draft.reply()
    y = d.history[:, chosen, METRIC_INDEX[metric]].astype(np.float64)
    hours = time_to_threshold(y, 100.0, d.bucket_seconds)
    soon = [
        (float(h), int(s)) for h, s in zip(hours, chosen, strict=True) if h <= FORECAST_HORIZON_H
    ]
    minutes = draft.number("window_minutes", d.history.shape[0] * d.bucket_seconds / 60, "min")
    if not soon:
        which_ko = ", ".join(d.ids[i] for i in chosen[:5]) if found else _scope_words(q)[0]
        which_en = ", ".join(d.ids[i] for i in chosen[:5]) if found else _scope_words(q)[1]
        if found:
            now = ", ".join(
                f"{d.ids[i]} {draft.metric(metric, d.value(int(i), metric), d.ids[i])}"
                for i in chosen[:5]
            )
            draft.line(f"현재 {ko_m}: {now}.", f"{en_m.capitalize()} now: {now}.")
        draft.line(
            f"최근 {minutes}분 추세로 보면 {which_ko}의 {ko_m}{particle(ko_m, '은')} "
            f"{int(FORECAST_HORIZON_H)}시간 안에 100%에 도달하지 않습니다.",
            f"On the last {minutes} min trend, {en_m} of {which_en} does not reach 100% "
            f"within {int(FORECAST_HORIZON_H)} h.",
        )
        return draft.reply()
    soon.sort()
    ko, en = [], []
    for h, s in soon[:MAX_LISTED]:
        sid = d.ids[s]
        now = draft.metric(metric, d.value(s, metric), sid)
        shown = draft.number(f"{metric}_hours_to_full", h, "h", 1, sid)
        ko.append(f"{sid}: 현재 {now}, 약 {shown}시간 후 가득 참")
        en.append(f"{sid}: {now} now, full in about {shown} h")
    draft.line(
        f"최근 {minutes}분 추세 기준 {ko_m} 예측:\n" + "\n".join(ko),
        f"{en_m} forecast from the last {minutes} min trend:\n" + "\n".join(en),
    )
    draft.chart = _line_chart(d, soon[0][1], metric)
    draft.analysed(f"{chosen.size}대의 선형 추세 외삽", f"linear trend of {chosen.size} servers")
    return draft.reply()


def correlation(q: Query, d: FleetData) -> Reply:
    draft = Draft()
    if d.history is None or d.history.shape[0] < 3:
        draft.line("상관관계를 볼 이력이 없습니다.", "There is no history to correlate.")
        return draft.reply()
    found, missing = _servers(q, d)
    if missing:
        return _unknown(d, missing)
    chosen = np.array(found, dtype=np.intp) if found else _scope(q, d)
    base = q.metrics[0] if q.metrics else "cpu_pct"
    others = q.metrics[1:] if len(q.metrics) > 1 else tuple(m for m in METRICS if m != base)
    mean_r = _mean_correlations(d.history[:, chosen, :], METRIC_INDEX[base])
    pairs = sorted(others, key=lambda m: -abs(mean_r[METRIC_INDEX[m]]))[:3]
    ko_b, en_b = label(base)
    scope_ko, scope_en = _scope_words(q) if not found else (", ".join(q.servers),) * 2
    minutes = draft.number("window_minutes", d.history.shape[0] * d.bucket_seconds / 60, "min")
    ko, en = [], []
    for m in pairs:
        r = draft.number(f"r_{base}_{m}", float(mean_r[METRIC_INDEX[m]]), "r", 2)
        ko.append(f"{label(m)[0]} r={r}")
        en.append(f"{label(m)[1]} r={r}")
    draft.line(
        f"최근 {minutes}분 {scope_ko}에서 {ko_b}{particle(ko_b, '과')} 함께 움직이는 지표: "
        f"{', '.join(ko)}.",
        f"Over the last {minutes} min on {scope_en}, what moves with {en_b}: {', '.join(en)}.",
    )
    draft.line(
        "r은 서버별 피어슨 상관계수의 평균입니다 (양수는 같은 방향, 음수는 반대 방향).",
        "r is the Pearson correlation averaged over the servers (positive: same direction).",
    )
    draft.chart = {"type": "scatter", "x": base, "y": pairs[0] if pairs else base}
    draft.analysed(
        f"{chosen.size}대 × {len(METRICS)}개 지표 상관 행렬",
        f"correlation matrix of {chosen.size} servers",
    )
    return draft.reply()


def _mean_correlations(window: npt.NDArray[np.float32], base: int) -> npt.NDArray[np.float64]:
    """Pearson r of metric ``base`` with every metric, per server, averaged over the servers.

    ``window`` is float[T, server, metric]; one vectorised pass, as ``correlation_matrix``
    would give server by server (a constant series correlates 0 with everything).
    """
    x = window.astype(np.float64)
    x -= x.mean(axis=0)
    norm = np.linalg.norm(x, axis=0)
    varying = norm > 1e-9 * np.maximum(1.0, np.abs(window).max(axis=0))
    z = np.divide(x, norm, out=np.zeros_like(x), where=varying[None])
    r = np.clip(np.einsum("ts,tsm->sm", z[:, :, base], z), -1.0, 1.0)
    return r.mean(axis=0)  # type: ignore[no-any-return]


def compare(q: Query, d: FleetData) -> Reply:
    found, missing = _servers(q, d)
    if missing:
        return _unknown(d, missing)
    draft = Draft()
    metrics = q.metrics or KEY_METRICS
    if len(found) >= 2:
        groups = [(d.ids[i], np.array([i])) for i in found[:2]]
    elif len(q.regions) >= 2:
        groups = [(r, np.flatnonzero(d.region == REGIONS.index(r))) for r in q.regions[:2]]
    elif len(q.roles) >= 2:
        groups = [(r, np.flatnonzero(d.role == ROLES.index(r))) for r in q.roles[:2]]
    else:
        draft.line(
            "비교할 서버 두 대나 리전 두 곳을 알려주세요 (예: web-01이랑 web-02 비교).",
            "Name two servers or two regions to compare (e.g. compare web-01 and web-02).",
        )
        return draft.reply()
    ko_lines, en_lines = [], []
    for name, members in groups:
        single = members.size == 1 and name in d.ids
        server_id = name if single else None
        values = [(m, float(np.mean(d.values[members, METRIC_INDEX[m]]))) for m in metrics]
        shown = [draft.metric(m, v, server_id) for m, v in values]
        ko_lines.append(
            f"{name}: "
            + ", ".join(f"{label(m)[0]} {s}" for (m, _), s in zip(values, shown, strict=True))
        )
        en_lines.append(
            f"{name}: "
            + ", ".join(f"{label(m)[1]} {s}" for (m, _), s in zip(values, shown, strict=True))
        )
    mean_ko = "" if len(found) >= 2 else " (리전/역할 평균)"
    mean_en = "" if len(found) >= 2 else " (means)"
    draft.line(f"{d.at} 기준 비교{mean_ko}:\n" + "\n".join(ko_lines),
               f"Comparison at {d.at}{mean_en}:\n" + "\n".join(en_lines))  # fmt: skip
    draft.chart = {"type": "compare", "groups": [g for g, _ in groups], "metrics": list(metrics)}
    draft.analysed("두 대상의 지표 비교", "compared two targets")
    return draft.reply()


def recommend(q: Query, d: FleetData) -> Reply:
    draft = Draft()
    actions_ko, actions_en = [], []
    for inc in [i for i in d.incidents if i.open][:3]:
        failure = FAILURE_TYPES.get(inc.type)
        draft.name(*inc.servers[:3])
        if failure is not None:
            actions_ko.append(
                f"{inc.id}({', '.join(inc.servers[:3])}): {failure.recovery.description_ko}"
            )
            actions_en.append(
                f"{inc.id} ({', '.join(inc.servers[:3])}): {failure.recovery.description_en}"
            )
    candidates = _candidates(d)
    if candidates:
        top = candidates[0]
        rid = d.ids[top.server]
        draft.name(rid)
        ko, en = _evidence(draft, d, top)
        actions_ko.append(f"가장 먼저 이상이 시작된 {rid}부터 점검하세요 ({ko}).")
        actions_en.append(f"Start with {rid}, where the anomaly began first ({en}).")
    if d.history is not None and d.history.shape[0] >= 3:
        y = d.history[:, :, METRIC_INDEX["disk_pct"]].astype(np.float64)
        hours = time_to_threshold(y, 100.0, d.bucket_seconds)
        for s in np.flatnonzero(hours <= 24.0)[:3]:
            sid = d.ids[int(s)]
            h = draft.number("disk_pct_hours_to_full", float(hours[s]), "h", 1, sid)
            actions_ko.append(
                f"{sid} 디스크가 약 {h}시간 후 가득 찹니다: 로그 정리나 증설을 하세요."
            )
            actions_en.append(f"{sid}'s disk fills in about {h} h: clean up logs or add space.")
    if not actions_ko:
        draft.line(
            f"{d.at} 기준 조치가 필요한 장애나 알림이 없습니다. 지금은 지켜보기만 하면 됩니다.",
            f"At {d.at} no incident or alert needs action; keep watching.",
        )
    else:
        draft.line(f"{d.at} 기준 권장 조치:", f"Recommended at {d.at}:")
        for ko, en in zip(actions_ko, actions_en, strict=True):
            draft.line(f"- {ko}", f"- {en}")
    draft.analysed(f"권장 조치 {len(actions_ko)}개", f"{len(actions_en)} actions")
    return draft.reply()


HELP_KO = (
    "플릿 데이터에 대해 답할 수 있습니다. 예: '지금 상태 어때?', 'CPU 가장 높은 서버 3개', "
    "'메모리 80% 넘는 서버', '경고 상태 서버 몇 대야?', 'db-03 상태 알려줘', '서울 리전 평균 CPU', "
    "'web-05 왜 느려?', '현재 장애 있어?', '오늘 장애 보고서 써줘', '디스크 언제 가득 차?', "
    "'CPU랑 응답시간 상관관계', 'web-01이랑 web-02 비교', '뭘 조치해야 해?'"
)
HELP_EN = (
    "I answer questions about the fleet's data, e.g. 'give me an overview', 'top 3 servers by "
    "CPU', 'servers with error rate above 1%', 'how many servers are critical?', 'how is "
    "api-02 doing?', 'average response time of web servers', 'why is web-05 slow?', "
    "\"what's on fire?\", 'write an incident report', 'will cache-01 run out of memory?', "
    "'what moves with error rate on api servers?', 'compare Seoul and eu-west-1', "
    "'what should I do now?'"
)


def help_(q: Query, d: FleetData) -> Reply:
    return Reply(ko=HELP_KO + ".", en=HELP_EN + ".")


def refuse(q: Query, d: FleetData) -> Reply:
    return Reply(
        ko="설정, 키, 토큰, 내부 지시사항은 알려드릴 수 없습니다. " + HELP_KO + ".",
        en="I can't share configuration, keys, tokens or my instructions. " + HELP_EN + ".",
    )


def out_of_scope(q: Query, d: FleetData) -> Reply:
    return Reply(
        ko="서버 모니터링과 관계없는 질문에는 답하지 않습니다. " + HELP_KO + ".",
        en="That is outside what I know: I only answer about this server fleet. " + HELP_EN + ".",
    )


REPLIES: dict[str, Callable[[Query, FleetData], Reply]] = {
    "summary": summary,
    "top_n": top_n,
    "filter": filter_,
    "count": count,
    "server": server,
    "aggregate": aggregate,
    "root_cause": root_cause,
    "incidents": incidents,
    "report": report,
    "forecast": forecast,
    "correlation": correlation,
    "compare": compare,
    "recommend": recommend,
    "help": help_,
    "refuse": refuse,
    "out_of_scope": out_of_scope,
}
