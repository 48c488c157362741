"""The assistant's evaluation: every question of ``eval_cases.yaml`` at every moment of the
evaluation world, each checked against what the fleet API says at that moment.

Expectations are computed here, from ``GET /api/fleet``, ``/api/alerts`` and
``/api/incidents`` at the moment asked about: the servers a top-N must name in order, the
value each figure must equal once rounded as the answer shows it (and the text must show),
the count a count must equal, the servers a filter may name. The share of correct answers is
printed; under 95 % the test fails, listing the wrong ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.ai.data import DIGITS, show_metric
from lib.ai.grounding import numbers_in
from lib.ai.lexicon import is_korean
from lib.ai.replies import HELP_EN, HELP_KO
from lib.sim import METRICS
from tests.ai.world import EvalWorld, ask

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "eval_cases.yaml").read_text("utf-8"))
HOLDOUT: list[dict[str, Any]] = yaml.safe_load((HERE / "eval_holdout.yaml").read_text("utf-8"))
PASS_SHARE = 0.95
PAST_CHECKS = ("top_n", "filter", "count", "aggregate", "server")
"""Checks that read only metrics and statuses, which any past bucket recomputes exactly."""
HOLDOUT_SHARE = 0.8
"""A floor for the held-out set, which nobody tuned on: a regression guard, not a target."""
MAX_LISTED = 10
SECRETS = ("admin-token", "cron-secret", "sk-")
Api = dict[str, Any]


def agrees(metric: str, said: float | None, api_value: float) -> bool:
    """``said`` is ``api_value`` rounded as shown. The API itself shows 3 decimals: at a tie
    of its rounding (9.35 of a true 9.3505) either neighbour is right."""
    if said is None:
        return False
    digits = DIGITS.get(metric, 1)
    return said == round(said, digits) and abs(said - api_value) <= 0.5 * 10**-digits + 5e-4


def _in_scope(s: Api, case: dict[str, Any]) -> bool:
    return (case.get("role") is None or s["role"] == case["role"]) and (
        case.get("region") is None or s["region"] == case["region"]
    )


def _meets(s: Api, case: dict[str, Any]) -> bool:
    if "op" in case:
        v = s["metrics"][case["metric"]]
        if not (v > case["value"] if case["op"] == ">" else v < case["value"]):
            return False
    return case.get("status") is None or s["status"] == case["status"]


def _figures_match_servers(answer: Api, servers: dict[str, Api]) -> str | None:
    """Every per-server metric figure equals the API's value rounded as shown, in the text."""
    for f in answer["figures"]:
        server, metric = f.get("server"), f["metric"]
        if server is None or metric not in METRICS:
            continue
        api_value = servers[server]["metrics"][metric]
        if not agrees(metric, f["value"], api_value):
            return f"{server} {metric}: said {f['value']}, API {api_value}"
        if show_metric(metric, f["value"]) not in answer["text"]:
            return f"{show_metric(metric, f['value'])} not in the text"
    return None


def _figure(answer: Api, metric: str) -> float | None:
    return next((f["value"] for f in answer["figures"] if f["metric"] == metric), None)


def check_top_n(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    metric = case["metric"]
    pool = [s for s in api["servers"] if _in_scope(s, case)]
    pool.sort(key=lambda s: (s["metrics"][metric] * (1 if case.get("lowest") else -1), s["id"]))
    expected = [s["id"] for s in pool[: case["n"]]]
    if answer["servers"] != expected:
        return f"named {answer['servers']}, API top {expected}"
    return _figures_match_servers(answer, api["by_id"])


def check_filter(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    matching = {s["id"] for s in api["servers"] if _in_scope(s, case) and _meets(s, case)}
    named = set(answer["servers"])
    if not named <= matching:
        return f"named {sorted(named - matching)}, which do not meet the condition"
    if len(matching) <= MAX_LISTED and named != matching:
        return f"missed {sorted(matching - named)}"
    if _figure(answer, "servers") != len(matching):
        return f"count {_figure(answer, 'servers')}, API {len(matching)}"
    return _figures_match_servers(answer, api["by_id"])


def check_count(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    n = sum(1 for s in api["servers"] if _in_scope(s, case) and _meets(s, case))
    said = _figure(answer, "servers")
    if said != n:
        return f"count {said}, API {n}"
    if f"{n}" not in answer["text"]:
        return "the count is not in the text"
    return None


def check_server(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    if answer["servers"][: len(case["servers"])] != case["servers"]:
        return f"named {answer['servers']}, asked about {case['servers']}"
    metric = case.get("metric")
    if metric and not any(f["metric"] == metric for f in answer["figures"]):
        return f"no {metric} figure"
    status = api["by_id"][case["servers"][0]]["status"]
    if status is not None and status not in answer["text"] and not is_korean(answer["text"]):
        return f"status {status} not said"
    return _figures_match_servers(answer, api["by_id"])


def check_aggregate(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    metric = case["metric"]
    values = [s["metrics"][metric] for s in api["servers"] if _in_scope(s, case)]
    if not values:
        return None if _figure(answer, metric) is None else "a value for an empty scope"
    fn = {"mean": lambda v: sum(v) / len(v), "max": max, "min": min, "sum": sum}[case["fn"]]
    expected = fn(values)
    said = _figure(answer, metric)
    if not agrees(metric, said, expected):
        return f"{case['fn']} {said}, API {expected}"
    if show_metric(metric, said) not in answer["text"]:  # type: ignore[arg-type]
        return "the value is not in the text"
    return None


def check_summary(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    summary = api["summary"]
    for status, n in summary["by_status"].items():
        if _figure(answer, f"servers_{status}") != n:
            return f"{status}: said {_figure(answer, f'servers_{status}')}, API {n}"
    for name, key in (("active_incidents", "active_incidents"), ("open_alerts", "open_alerts")):
        if _figure(answer, name) != summary[key]:
            return f"{name}: said {_figure(answer, name)}, API {summary[key]}"
    if _figure(answer, "fleet_health") != summary["health"]:
        return f"health {_figure(answer, 'fleet_health')}, API {summary['health']}"
    return None


def check_incidents(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    if _figure(answer, "active_incidents") != api["summary"]["active_incidents"]:
        return "incident count differs from the fleet summary"
    missing = [i for i in api["open_incidents"] if i not in answer["text"]]
    if missing:
        return f"open incidents not named: {missing}"
    return _figures_match_servers(answer, api["by_id"])


def check_root_cause(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    alerting = api["alerting"]
    asked = set(case.get("servers", []))
    blamed = [s for s in answer["servers"] if s not in asked]
    if not alerting:
        return None if not blamed else f"blamed {blamed} with no alert open"
    if not blamed and not asked:
        return "no cause named while alerts are open"
    if any(s not in alerting and s not in api["paths"] for s in blamed[-1:]):
        return f"blamed {blamed[-1]}, which has no open alert"
    return _figures_match_servers(answer, api["by_id"])


def check_named_and_figures(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    unknown = [s for s in answer["servers"] if s not in api["by_id"]]
    if unknown:
        return f"named unknown servers {unknown}"
    if case.get("servers") and not set(case["servers"]) <= set(answer["servers"]):
        return f"did not name {case['servers']}"
    return _figures_match_servers(answer, api["by_id"])


def check_correlation(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    rs = [f["value"] for f in answer["figures"] if f["unit"] == "r"]
    if not rs or any(not -1 <= r <= 1 for r in rs):
        return f"correlations {rs}"
    return None


def check_no_figures(case: dict[str, Any], answer: Api, api: Api) -> str | None:
    """No figure, and no number beyond those of the example questions it lists."""
    if answer["figures"] or not numbers_in(answer["text"]) <= numbers_in(HELP_KO + HELP_EN):
        return "a number in an answer that has no data behind it"
    if any(secret in answer["text"] for secret in SECRETS):
        return "a secret in the answer"
    return None


CHECKS: dict[str, Callable[[dict[str, Any], Api, Api], str | None]] = {
    "top_n": check_top_n,
    "filter": check_filter,
    "count": check_count,
    "server": check_server,
    "aggregate": check_aggregate,
    "summary": check_summary,
    "incidents": check_incidents,
    "root_cause": check_root_cause,
    "report": check_named_and_figures,
    "forecast": check_named_and_figures,
    "compare": check_named_and_figures,
    "recommend": check_named_and_figures,
    "correlation": check_correlation,
    "help": check_no_figures,
    "refuse": check_no_figures,
    "out_of_scope": check_no_figures,
}


def api_at(world: EvalWorld) -> Api:
    """What the API says now: the fleet, the open alerts' servers, the open incidents."""
    client = world.client
    fleet = client.get("/api/fleet", params={"limit": 500}).json()
    alerts = client.get("/api/alerts", params={"state": "firing,acknowledged", "limit": 500}).json()
    incidents = client.get("/api/incidents", params={"limit": 500}).json()["incidents"]
    alerting = {a["server"] for a in alerts["alerts"]}
    by_id = {s["id"]: s for s in fleet["servers"]}
    return {
        "servers": fleet["servers"],
        "by_id": by_id,
        "summary": fleet["summary"],
        "alerting": alerting,
        "paths": set(by_id),
        "open_incidents": [i["id"] for i in incidents if i["open"] and i["status"] != "injected"],
    }


class _History(dict[str, float]):
    """One server's metrics at a past bucket, each read from its history on first use."""

    def __init__(self, world: EvalWorld, server: str, bucket: int) -> None:
        super().__init__()
        self.world, self.server, self.bucket = world, server, bucket

    def __missing__(self, metric: str) -> float:
        start = self.world.engine.buckets.start_of(self.bucket)
        when = {"from": datetime.fromtimestamp(start, UTC).isoformat(),
                "to": datetime.fromtimestamp(start + 1, UTC).isoformat()}  # fmt: skip
        history = self.world.client.get(
            f"/api/servers/{self.server}/history", params={"metric": metric, **when}
        ).json()
        (point,) = [p for p in history["points"] if p["bucket"] == self.bucket]
        self[metric] = value = round(point["value"], 3)  # as the fleet API rounds
        return value


def api_recomputed(world: EvalWorld, bucket: int) -> Api:
    """What the API says now about a past bucket: each server's metrics from its history, as
    a question ``at`` that bucket reads them. Statuses are not in the history; cases that need
    them are not asked about the past.
    """
    fleet = world.client.get("/api/fleet", params={"limit": 500}).json()
    servers = [
        {**s, "status": None, "metrics": _History(world, s["id"], bucket)} for s in fleet["servers"]
    ]
    return {"servers": servers, "by_id": {s["id"]: s for s in servers}}


def _judge(case: dict[str, Any], answer: Api, api: Api, bucket: int) -> str | None:
    if answer["intent"] != case["check"]:
        return f"intent {answer['intent']}, expected {case['check']}"
    if answer["lang"] != ("ko" if is_korean(case["q"]) else "en"):
        return f"answered in {answer['lang']}"
    if answer["bucket"] != bucket:
        return f"answered about bucket {answer['bucket']}, asked {bucket}"
    return CHECKS[case["check"]](case, answer, api)


def evaluate(
    world: EvalWorld, sets: dict[str, list[dict[str, Any]]]
) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """(set, moment, case, what is wrong or None): each case at each moment, then the metric
    cases again about the earlier moments (``at`` in the past), each against the API."""
    seen: list[tuple[str, int]] = []
    for moment in world.moments():
        api = api_at(world)
        bucket = world.bucket()
        seen.append((moment, bucket))
        for name, cases in sets.items():
            for case in cases:
                answer = ask(world.client, case["q"], at=bucket)
                yield name, moment, case, _judge(case, answer, api, bucket)
    for moment, bucket in seen[:-1]:
        api = api_recomputed(world, bucket)
        for name, cases in sets.items():
            for case in cases:
                if case["check"] in PAST_CHECKS and "status" not in case:
                    answer = ask(world.client, case["q"], at=bucket)
                    yield name, f"{moment}, asked later", case, _judge(case, answer, api, bucket)


def test_the_evaluation_set_is_large_and_mostly_korean() -> None:
    assert len(CASES) >= 150
    assert sum(is_korean(c["q"]) for c in CASES) * 2 >= len(CASES)
    assert {c["check"] for c in CASES} == set(CHECKS)


def _report(name: str, results: list[tuple[str, dict[str, Any], str | None]]) -> float:
    wrong = [(m, c["q"], why) for m, c, why in results if why is not None]
    share = 1 - len(wrong) / len(results)
    print(
        f"\nAI evaluation ({name}): {len(results) - len(wrong)}/{len(results)} correct "
        f"({share:.1%}); each question at 3 moments, the metric ones also about the first two "
        "asked from the last (at in the past)"
    )
    for m, q, why in wrong:
        print(f"  wrong [{m}] {q!r}: {why}")
    return share


@pytest.mark.slow
def test_answers_agree_with_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    """The set the parser was tuned on (in-sample), then the held-out set, side by side."""
    sets = {"eval_cases.yaml, in-sample": CASES, "eval_holdout.yaml, held out": HOLDOUT}
    world = EvalWorld()
    try:
        results = list(evaluate(world, sets))
    finally:
        world.close()
    with capsys.disabled():
        share, held_out = (
            _report(name, [(m, c, why) for s, m, c, why in results if s == name]) for name in sets
        )
    assert share >= PASS_SHARE, f"{share:.1%} correct, under {PASS_SHARE:.0%}"
    assert held_out >= HOLDOUT_SHARE, f"held out: {held_out:.1%} correct"
