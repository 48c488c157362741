"""Replies compute their figures from the data they are given and quote them as recorded."""

from __future__ import annotations

import numpy as np
import pytest

from lib.ai.data import DIGITS, IncidentFact, show_metric
from lib.ai.grounding import numbers_in
from lib.ai.intents import parse
from lib.ai.replies import REPLIES, _mean_correlations
from lib.analysis import STATUS_NAMES, correlation_matrix
from lib.sim import METRIC_INDEX, REGIONS
from tests.unit.ai.fleet_data import BUCKET, FLEET, alert, fleet_data


def _chain() -> tuple[str, str, str]:
    """A web server, an api server it calls and a database that api server calls."""
    web = next(i for i, s in enumerate(FLEET.ids) if s.startswith("web-"))
    api = int(FLEET.dependencies(web)[0])
    db = next(int(d) for d in FLEET.dependencies(api) if FLEET.ids[int(d)].startswith("db-"))
    return FLEET.ids[web], FLEET.ids[api], FLEET.ids[db]


def test_every_intent_replies_in_both_languages_quoting_its_figures() -> None:
    _web, api, db = _chain()
    data = fleet_data(
        alerts=(alert(db, "response_ms", 10), alert(api, "error_pct", 12)), history_buckets=200
    )
    for intent, reply in REPLIES.items():
        q = parse("db-01 web-01 cpu", lang="ko")
        r = reply(
            q.__class__(**{**q.to_dict(), "intent": intent, "condition": None, "time": q.time}),
            data,
        )
        assert r.ko, intent
        assert r.en, intent
        for f in r.figures:
            if f.metric in METRIC_INDEX and f.server is not None:
                value = data.value(FLEET.index_of(f.server), f.metric)
                assert f.value == round(value, DIGITS.get(f.metric, 1)), (intent, f)
                assert show_metric(f.metric, f.value) in r.ko, (intent, f)


def test_top_n_names_the_highest_in_order() -> None:
    data = fleet_data()
    r = REPLIES["top_n"](parse("top 3 servers by cpu"), data)
    cpu = data.values[:, METRIC_INDEX["cpu_pct"]]
    assert list(r.servers) == [FLEET.ids[i] for i in np.argsort(-cpu, kind="stable")[:3]]


def test_a_filter_names_only_servers_meeting_the_condition() -> None:
    data = fleet_data()
    r = REPLIES["filter"](parse("servers with memory over 60%"), data)
    mem = data.values[:, METRIC_INDEX["memory_pct"]]
    assert (
        set(r.servers) == {FLEET.ids[i] for i in np.flatnonzero(mem > 60)[:10]}
        or len(r.servers) == 10
    )
    assert all(mem[FLEET.index_of(s)] > 60 for s in r.servers)


def test_the_root_cause_is_followed_upstream_to_the_earliest_anomaly() -> None:
    web, api, db = _chain()
    data = fleet_data(
        alerts=(
            alert(web, "response_ms", 12),
            alert(api, "response_ms", 11),
            alert(db, "response_ms", 10),
        )
    )
    r = REPLIES["root_cause"](parse(f"why is {web} slow?"), data)
    assert r.servers == (web, api, db)
    assert f"{web} → {api} → {db}" in r.en
    assert f"the earliest upstream anomaly is {db}" in r.en


def test_the_engines_diagnosis_wins_when_there_is_one() -> None:
    web, api, db = _chain()
    incident = IncidentFact(
        "inc-1", "database_timeout", "active", True, (web, api, db), 10, 11,
        diagnosis={"root_server": db, "summary_en": "pool exhausted", "summary_ko": "DB 풀 고갈"},
    )  # fmt: skip
    data = fleet_data(alerts=(alert(web, "response_ms", 9),), incidents=(incident,))
    r = REPLIES["root_cause"](parse(f"{web} 왜 느려?"), data)
    assert db in r.servers
    assert "DB 풀 고갈" in r.ko


def test_with_no_alert_nobody_is_blamed() -> None:
    r = REPLIES["root_cause"](parse("what caused the latency spike?"), fleet_data())
    assert r.servers == ()


def test_an_unknown_server_is_said_so() -> None:
    r = REPLIES["server"](parse("db-99 상태"), fleet_data())
    assert "db-99" in r.ko
    assert r.figures == ()


@pytest.mark.parametrize("intent", ["help", "refuse", "out_of_scope"])
def test_canned_replies_quote_no_figure(intent: str) -> None:
    r = REPLIES[intent](parse("help"), fleet_data())
    assert r.figures == ()
    assert r.servers == ()


@pytest.mark.parametrize("intent", sorted(set(REPLIES) - {"help", "refuse", "out_of_scope"}))
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_number_in_the_text_is_a_figure(intent: str, lang: str) -> None:
    web, api, db = _chain()
    incident = IncidentFact(
        "inc-7", "database_timeout", "escalated", True, (web, api, db), 10, 11, "failover",
        ((10, "started", ""), (11, "detected", ""), (12, "recovery_failed", "")),
    )  # fmt: skip
    data = fleet_data(
        alerts=(
            alert(db, "response_ms", 10),
            alert(api, "error_pct", 12),
            alert(web, "response_ms", 13),
        ),
        incidents=(incident,),
        history_buckets=200,
    )
    base = parse(f"{web} {db} cpu", lang=lang)  # type: ignore[arg-type]
    q = base.__class__(**{**base.to_dict(), "intent": intent, "time": base.time, "condition": None})
    r = REPLIES[intent](q, data)
    quoted = numbers_in(" ".join(str(f.value) for f in r.figures))
    assert numbers_in(r.text(lang)) <= quoted, r.text(lang)  # type: ignore[arg-type]


def test_a_server_answer_carries_a_line_the_dashboard_can_draw() -> None:
    data = fleet_data(history_buckets=600)
    r = REPLIES["server"](parse("db-01 메모리"), data)
    assert r.chart is not None
    assert (r.chart["type"], r.chart["server"], r.chart["metric"]) == (
        "line",
        "db-01",
        "memory_pct",
    )
    xs = [p["x"] for p in r.chart["points"]]
    assert 2 <= len(xs) <= 60
    assert xs == sorted(xs)
    assert xs[0] == data.history_start


def test_mean_correlations_agree_with_the_analysis_server_by_server() -> None:
    data = fleet_data(history_buckets=300)
    chosen = np.arange(0, 30, 3)
    got = _mean_correlations(data.history[:, chosen, :], METRIC_INDEX["cpu_pct"])  # type: ignore[index]
    each = [correlation_matrix(data.history[:, s, :].astype(np.float64)) for s in chosen]  # type: ignore[index]
    want = np.mean(each, axis=0)[METRIC_INDEX["cpu_pct"]]
    off_diagonal = np.arange(want.size) != METRIC_INDEX["cpu_pct"]
    assert np.allclose(got[off_diagonal], want[off_diagonal], atol=1e-9)


def test_a_summary_of_a_region_counts_its_servers_only() -> None:
    data = fleet_data()
    r = REPLIES["summary"](parse("서울 리전 상태 어때?"), data)
    seoul = int(np.sum(data.region == REGIONS.index("ap-northeast-2")))
    counts = {f.metric: f.value for f in r.figures}
    assert counts["servers"] == seoul
    assert sum(counts[f"servers_{s}"] for s in STATUS_NAMES) == seoul


def test_a_reopened_incident_in_the_report_lasts_until_now() -> None:
    """A leak closed by an OOM kill and reopened on its next cycle hurts still: the report's
    impact runs to the answer's moment, not to the first close."""
    web = FLEET.ids[0]
    start = BUCKET - 2_000
    steps = ((start, "started", ""), (start + 1, "detected", ""), (start + 20, "escalated", ""))
    closed = ((start + 300, "closed", ""),)
    again = ((start + 1_200, "reopened", ""),)

    def minutes(timeline: tuple[tuple[int, str, str], ...], status: str) -> float:
        incident = IncidentFact(
            "inc-9", "memory_leak", status, status != "resolved", (web,), start, start + 1,
            timeline=timeline,
        )  # fmt: skip
        r = REPLIES["report"](parse("오늘 장애 보고서"), fleet_data(incidents=(incident,)))
        return next(f.value for f in r.figures if f.metric == "duration_minutes")

    bucket_minutes = FLEET.bucket_seconds / 60
    assert minutes(steps + closed, "resolved") == pytest.approx(300 * bucket_minutes, abs=0.1)
    assert minutes(steps + closed + again, "escalated") == pytest.approx(
        2_000 * bucket_minutes, abs=0.1
    )
    back_and_closed = steps + closed + again + ((start + 1_500, "closed", ""),)
    assert minutes(back_and_closed, "resolved") == pytest.approx(1_500 * bucket_minutes, abs=0.1)
