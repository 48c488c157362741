"""An injected failure becomes an incident whose diagnosis the console shows, in Korean and in
English: the type with its confidence, the root server and the others it reached as links, the
evidence (moved metrics, log lines) and the recovery attempts, all as text. The simulator's
ground truth is a separate, collapsed, labelled section; the topology rings what the diagnosis
names.

Hostile text and an ``unknown`` diagnosis are served by the browser's request interception
(the real response, edited): what is tested is what the page does with them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from lib.diagnose.text import TYPE_KO
from lib.engine.reasons import CLEARED_UNFIXED, reopened
from tests.browser.conftest import (
    Console,
    FastClock,
    PageErrors,
    open_console,
    screenshot,
    serve_console,
)
from tests.browser.test_access import axe

HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1"> <b>bold</b>'
INCIDENT = "#incidents li.incident[data-id='{id}']"


@pytest.fixture(scope="module")
def diagnosed() -> Iterator[tuple[Console, dict[str, Any]]]:
    """A console of its own with a database timeout injected, and the incident once diagnosed."""
    # A database timeout ramps over 1 to 8 minutes: a clock 8 times the wall lets it show.
    consoles = serve_console(FastClock(8))
    console = next(consoles)
    try:
        target = "db-02"
        console.post(
            "/incidents", {"type": "database_timeout", "servers": [target], "duration_s": 900}
        )
        yield console, with_log_evidence(console, diagnosed_on(console, target))
    finally:
        consoles.close()


def polled(find: Callable[[], dict[str, Any] | None], within_s: float, what: str) -> dict[str, Any]:
    """What ``find`` returns once it returns something, asked every second for ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        time.sleep(1)
    pytest.fail(f"{what} within {within_s} s")


def diagnosed_on(console: Console, target: str, within_s: float = 90) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        incidents = console.api("/incidents")["incidents"]
        return next(
            (i for i in incidents if i["diagnosis"] and target in i["diagnosis"]["affected"]),
            None,
        )

    return polled(find, within_s, f"no diagnosed incident on {target}")


def with_log_evidence(
    console: Console, incident: dict[str, Any], within_s: float = 60
) -> dict[str, Any]:
    """The incident once its evidence shows log lines: detected at its first signs, a failure
    writes most of them after, and the open incident gathers them."""

    def find() -> dict[str, Any] | None:
        now = current(console, incident)
        return now if now["diagnosis"]["evidence"]["logs"] else None

    return polled(find, within_s, f"{incident['id']} showed no log line")


def current(console: Console, incident: dict[str, Any]) -> dict[str, Any]:
    """The incident as the API tells it now (a diagnosis grows as the failure spreads)."""
    return console.api(f"/incidents/{incident['id']}")


def text(page: Page, selector: str) -> str:
    return page.eval_on_selector(selector, "el => el.textContent")


def shown_percent(shown: str, word: str) -> int:
    """The whole percent after ``word`` in ``shown``."""
    found = re.search(rf"{word} (\d+)%", shown)
    assert found is not None, shown
    return int(found.group(1))


def wait_text(page: Page, selector: str, want: str) -> None:
    page.wait_for_function(
        "([sel, want]) => document.querySelector(sel)?.textContent === want", arg=[selector, want]
    )


def test_the_diagnosis_is_shown_in_english_and_korean(
    page: Page, diagnosed: tuple[Console, dict[str, Any]], page_errors: PageErrors
) -> None:
    console, incident = diagnosed
    incident = current(console, incident)
    d = incident["diagnosis"]
    assert d["type"] == "database_timeout", d
    assert d["root_server"] == "db-02"
    item = INCIDENT.format(id=incident["id"])
    block = f"{item} .diagnosis"
    open_console(page, console, "#/incidents")
    page.wait_for_selector(f"{block}[data-type='database_timeout']", timeout=20_000)

    assert text(page, f"{block} .diag-type") == "Database timeout"
    assert shown_percent(text(page, f"{block} .confidence"), "confidence") == pytest.approx(
        d["confidence"] * 100, abs=0.51
    )
    assert text(page, f"{block} .diag-summary") == d["summary"]["en"]
    root = page.locator(f"{block} .diag-facts a").first
    assert root.text_content() == "db-02"
    assert root.get_attribute("href") == "#/server/db-02"
    next_types = [h["type"] for h in d["hypotheses"] if h["type"] != d["type"]]
    facts = text(page, f"{block} .diag-facts")
    assert "Next hypotheses" in facts
    assert all(t.replace("_", " ") not in facts for t in next_types), "types are localised"
    # Evidence: every moved metric in the API's order (earliest first), every log line.
    shown = page.eval_on_selector_all(
        f"{block} .evidence-metrics li",
        "els => els.map(e => e.dataset.server + ' ' + e.dataset.metric)",
    )
    assert shown == [f"{m['server']} {m['metric']}" for m in d["evidence"]["metrics"]]
    messages = page.eval_on_selector_all(
        f"{block} .evidence-logs .msg", "els => els.map(e => e.textContent)"
    )
    # The evidence gathers lines while the incident is open, the first ones kept: the page
    # shows it as it stood between the two reads of the API.
    before = [line["message"] for line in d["evidence"]["logs"]]
    now = current(console, incident)["diagnosis"]
    after = [line["message"] for line in now["evidence"]["logs"]]
    assert messages[: len(before)] == before
    assert after[: len(messages)] == messages
    assert messages, "a database timeout leaves log lines"
    attempts = page.eval_on_selector_all(
        f"{block} .attempts .strategy", "els => els.map(e => e.title)"
    )
    assert attempts == d["attempts"]
    names = page.eval_on_selector_all(
        f"{block} .attempts .strategy", "els => els.map(e => e.textContent)"
    )
    assert names
    assert all("_" not in n for n in names), f"strategies are named, not ids: {names}"

    # The ground truth: its own section after the diagnosis, collapsed, labelled.
    truth = f"{item} > details.truth"
    assert page.eval_on_selector(truth, "el => el.open") is False
    assert text(page, f"{truth} > summary") == "Simulator ground truth (demo)"
    assert page.locator(f"{truth} ul").is_hidden()
    assert page.locator(f"{block} details, {block} .truth").count() == 0
    scenario_ids = [s["id"] for s in incident["scenario"]["incidents"]]
    assert all(s not in text(page, block) for s in scenario_ids)
    page.click(f"{truth} > summary")
    assert all(s in text(page, truth) for s in scenario_ids)

    page.select_option("#lang", "ko")
    wait_text(page, f"{block} .diag-type", TYPE_KO[d["type"]])
    assert text(page, f"{block} .diag-summary") == d["summary"]["ko"]
    assert shown_percent(text(page, f"{block} .confidence"), "신뢰도") == pytest.approx(
        d["confidence"] * 100, abs=0.51
    )
    assert "다음 가설" in text(page, f"{block} .diag-facts")
    korean = page.eval_on_selector_all(
        f"{block} .attempts .strategy", "els => els.map(e => e.textContent)"
    )
    assert all(re.search("[가-힣]", n) for n in korean), f"strategies in Korean: {korean}"
    levels = page.eval_on_selector_all(
        "#alerts li.alert .level", "els => els.map(e => e.textContent)"
    )
    assert levels
    assert set(levels) <= {"정보", "경고", "오류", "심각"}, levels
    assert text(page, f"{truth} > summary") == "시뮬레이터 정답 (데모)"
    assert page.eval_on_selector(truth, "el => el.open") is True, "kept open across a re-render"
    assert page_errors.all() == []


def test_the_topology_rings_the_diagnosed_servers(
    page: Page, diagnosed: tuple[Console, dict[str, Any]], page_errors: PageErrors
) -> None:
    console, incident = diagnosed
    open_console(page, console, "#/incidents")
    d = current(console, incident)["diagnosis"]
    page.click(f"{INCIDENT.format(id=incident['id'])} a[href^='#/topology/']")
    page.wait_for_selector(
        f"#topology .topo-node.root[data-id='{d['root_server']}']", timeout=10_000
    )
    assert page.is_visible("#topology-focus")
    assert "Database timeout" in text(page, "#topology-focus-text")
    rings = page.eval_on_selector_all(
        "#topology .topo-node.root, #topology .topo-node.affected",
        "els => els.map(e => e.dataset.id)",
    )
    assert sorted(rings) == sorted(d["affected"])
    assert page_errors.all() == []


def edit_incidents(page: Page, edit: Any) -> None:
    """Serve ``/api/incidents`` as the app answers it, each diagnosis passed through ``edit``."""

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for i in body["incidents"]:
            if i["diagnosis"]:
                edit(i["diagnosis"])
        route.fulfill(response=response, json=body)

    page.route("**/api/incidents?*", handle)


def test_diagnosis_text_is_text_and_unknown_is_said(
    page: Page, diagnosed: tuple[Console, dict[str, Any]], page_errors: PageErrors
) -> None:
    console, incident = diagnosed

    def hostile_unknown(d: dict[str, Any]) -> None:
        d["type"] = "unknown"
        d["summary"] = {"en": f"en {HOSTILE}", "ko": f"ko {HOSTILE}"}
        d["evidence"]["logs"][0]["message"] = HOSTILE

    edit_incidents(page, hostile_unknown)
    block = f"{INCIDENT.format(id=incident['id'])} .diagnosis"
    open_console(page, console, "#/incidents")
    page.wait_for_selector(f"{block}.unknown", timeout=20_000)
    assert text(page, f"{block} .diag-type") == "Type not determined"
    assert page.is_visible(f"{block} .diag-unknown")
    assert text(page, f"{block} .diag-summary") == f"en {HOSTILE}"
    assert text(page, f"{block} .evidence-logs .msg") == HOSTILE
    assert page.locator("#incidents img, #incidents b").count() == 0
    page.select_option("#lang", "ko")
    page.wait_for_function(
        f"() => document.querySelector(\"{block} .diag-type\")?.textContent === '유형 미확정'"
    )
    assert text(page, f"{block} .diag-summary") == f"ko {HOSTILE}"
    assert page.get_attribute("body", "data-pwned") is None
    assert page_errors.all() == []
    page.unroute_all(behavior="ignoreErrors")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_diagnosis_is_accessible_and_fits_a_phone(
    browser: Browser, diagnosed: tuple[Console, dict[str, Any]], theme: str
) -> None:
    """axe-core finds no serious violation with a diagnosis and its ground truth open, and a
    375-px phone needs no horizontal scroll."""
    console, incident = diagnosed
    context = browser.new_context(
        viewport={"width": 375, "height": 760}, color_scheme=theme, locale="ko-KR"
    )
    try:
        page = context.new_page()
        open_console(page, console, "#/incidents")
        item = INCIDENT.format(id=incident["id"])
        page.wait_for_selector(f"{item} .diagnosis[data-type]", timeout=20_000)
        page.click(f"{item} > details.truth > summary")
        page.wait_for_timeout(300)
        found = axe(page)
        assert [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in found] == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_an_incident_that_came_back_says_so_in_its_timeline(
    page: Page, diagnosed: tuple[Console, dict[str, Any]], page_errors: PageErrors
) -> None:
    """The engine's own reasons for a close and a reopening (a leak's next cycle), served
    after the real timeline: each step is named in the page's language, with its reason, and
    the list still fits a phone."""
    console, incident = diagnosed
    last = current(console, incident)["timeline"][-1]
    steps = [
        {
            "at": (datetime.fromisoformat(last["at"]) + timedelta(seconds=after)).isoformat(),
            "bucket": last["bucket"] + after,  # the console's buckets are 1 s
            "event": event,
            "reason": {"en": en, "ko": ko},
        }
        for after, event, (en, ko) in (
            (600, "closed", CLEARED_UNFIXED),
            (3900, "reopened", reopened("db-02", 2)),
        )
    ]

    def came_back(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for i in body["incidents"]:
            if i["id"] == incident["id"]:
                i["timeline"] += steps
        route.fulfill(response=response, json=body)

    page.set_viewport_size({"width": 375, "height": 760})
    page.route("**/api/incidents?*", came_back)
    try:
        open_console(page, console, "#/incidents")
        step = f"{INCIDENT.format(id=incident['id'])} ol.timeline li:last-child"
        page.wait_for_selector(f"{step}[data-event='reopened']", timeout=20_000)
        shown = text(page, step)
        assert "came back, reopened — the same failure came back on db-02 (recurrence 2)" in shown
        closed = step.replace(":last-child", ":nth-last-child(2)")
        assert "no fix worked: if the failure comes back" in text(page, closed)
        page.locator(step).scroll_into_view_if_needed()
        screenshot(page, "incident-reopened-en-phone")
        page.select_option("#lang", "ko")
        page.wait_for_function(
            "sel => document.querySelector(sel)?.textContent.includes('재발, 다시 엶')", arg=step
        )
        assert "재발, 다시 엶 — db-02에 같은 장애가 재발 (2회째)" in text(page, step)
        assert "복구 조치는 듣지 않음" in text(page, closed)
        screenshot(page, "incident-reopened-ko-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        page.unroute_all(behavior="ignoreErrors")  # the console polls: one may be in flight
    assert page_errors.all() == []
