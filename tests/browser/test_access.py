"""Usable on a 375-px phone and by keyboard alone; axe-core finds no serious violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import Console, open_console

VIEWS = ["#/overview", "#/servers", "#/topology", "#/incidents", "#/server/db-01"]


def test_no_horizontal_scroll_at_375_px(browser: Browser, console: Console) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 760})
    try:
        page = context.new_page()
        open_console(page, console)
        for view in VIEWS:
            page.goto(f"{console.url}/{view}")
            page.wait_for_selector("body[data-ready='true']")
            page.wait_for_timeout(300)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{view} is {width} px wide"
    finally:
        context.close()


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el) return null;
  return el.id || el.dataset.view || el.dataset.range || el.getAttribute('href') || el.tagName;
}"""


def tab_through(page: Page, presses: int) -> set[str]:
    seen = set()
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.add(page.evaluate(FOCUSED))
    return seen


def test_every_control_is_reachable_by_keyboard(page: Page, console: Console) -> None:
    open_console(page, console, "#/servers")
    page.wait_for_selector("#grid .card")
    seen = tab_through(page, 40)
    expected = {"overview", "servers", "topology", "incidents", "ai-open", "notify-open", "lang"}
    expected |= {"theme", "login-open", "replay-range", "replay-hour", "replay-live", "f-q"}
    expected |= {"f-role", "f-region", "f-status", "f-sort", "#/server/api-01"}
    assert expected <= seen, expected - seen
    # A card opens its server's page with Enter, and the range buttons are reachable there.
    page.focus("#grid .card-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chart canvas")
    assert page.evaluate("location.hash").startswith("#/server/")
    assert {"d-metric", "900", "3600", "86400", "d-level"} <= tab_through(page, 40)
    # The sign-in dialog traps focus and closes with Escape.
    page.focus("#login-open")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED) == "login-user"
    page.keyboard.press("Escape")
    assert page.is_hidden("#login")


AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"


def axe(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations found by axe-core, which the test serves itself.

    axe-core is not deployed: the browser fetches it from a same-origin URL (the CSP allows
    'self' scripts only) that the test answers from node_modules, never the app.
    """
    if not AXE.exists():
        # Else the route below fails inside Playwright's listener, the script tag never loads
        # and the test hangs until pytest's timeout (a fresh worktree has no node_modules).
        pytest.fail(f"axe-core is missing at {AXE}: `make vendor` installs it")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=AXE))
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violations(browser: Browser, console: Console, theme: str) -> None:
    context = browser.new_context(color_scheme=theme, locale="en-GB")
    try:
        page = context.new_page()
        open_console(page, console)
        problems = {}
        for view in VIEWS:
            page.goto(f"{console.url}/{view}")
            page.wait_for_selector("body[data-ready='true']")
            page.wait_for_timeout(500)
            found = axe(page)
            if found:
                problems[view] = [
                    (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in found
                ]
        assert problems == {}
    finally:
        context.close()


def test_axe_core_is_not_deployed(console: Console) -> None:
    assert AXE.exists(), "`make vendor` installs axe-core into node_modules"
    assert httpx.get(f"{console.url}/vendor/axe.min.js", timeout=10).status_code == 404
    assert httpx.get(f"{console.url}/vendor/uPlot.esm.js", timeout=10).status_code == 200
