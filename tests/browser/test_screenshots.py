"""Screenshots of the main views, light and dark, Korean and English, desktop and phone.

Written to tests/browser/artifacts/ (not committed) to be looked at; the test checks that each
view rendered its content in the asked language and theme before the picture is taken.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Console, FastClock, open_console, screenshot, serve_console

VIEWS = {
    "overview": ("#/overview", "#heat button"),
    "servers": ("#/servers", "#grid .card"),
    "topology": ("#/topology", "#topology svg"),
    "detail": ("#/server/db-01", "#chart canvas"),
    "incidents": ("#/incidents", "#alerts li"),
}
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 760}}


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots(browser: Browser, console: Console, lang: str, theme: str, size: str) -> None:
    context = browser.new_context(
        viewport=SIZES[size], locale="ko-KR" if lang == "ko" else "en-GB", color_scheme=theme
    )
    page = context.new_page()
    try:
        open_console(page, console)
        assert page.get_attribute("html", "lang") == lang
        assert page.get_attribute("html", "data-theme") == theme
        for name, (route, ready) in VIEWS.items():
            page.goto(f"{console.url}/{route}")
            page.wait_for_selector(ready, timeout=10_000)
            page.wait_for_timeout(300)
            screenshot(page, f"{name}-{lang}-{theme}-{size}")
    finally:
        context.close()


@pytest.fixture(scope="module")
def troubled() -> Iterator[Console]:
    """A console of its own with a database failing: what the console is for.

    A database timeout ramps over minutes and the engine's failover would end it about a
    minute after detection, maybe before the card turned: this console's clock runs 8 times
    the wall and leaves recovery to people, so the failure grows for as long as the pictures
    need.
    """
    yield from serve_console(FastClock(8), auto_recovery=False)


@pytest.fixture(scope="module")
def diagnosing() -> Iterator[Console]:
    """A console of its own with a database timeout injected: the engine diagnoses it and
    plans its recovery."""
    for console in serve_console():
        console.post(
            "/incidents", {"type": "database_timeout", "servers": ["db-02"], "duration_s": 600}
        )
        yield console


def test_screenshots_of_an_incident(browser: Browser, troubled: Console) -> None:
    troubled.post(
        "/incidents", {"type": "database_timeout", "servers": ["db-02"], "duration_s": 600}
    )
    for lang, theme, route, ready, name in (
        ("en", "light", "#/servers", "#grid .card:not([data-status='healthy'])", "incident-grid"),
        ("ko", "dark", "#/server/db-02", "#chart canvas", "incident-detail"),
        ("en", "dark", "#/topology", "#topology .root", "incident-topology"),
    ):
        context = browser.new_context(
            viewport=SIZES["desktop"],
            locale="ko-KR" if lang == "ko" else "en-GB",
            color_scheme=theme,
        )
        page = context.new_page()
        try:
            page.goto(f"{troubled.url}/{route}")
            page.wait_for_selector("#live[data-state='live']", timeout=15_000)
            # Long enough for the detector to fire and the response time to climb.
            page.wait_for_timeout(20_000 if name == "incident-grid" else 2_000)
            page.wait_for_selector(ready, timeout=30_000)
            if route.startswith("#/server/"):
                page.select_option("#d-metric", "response_ms")
                page.click("[data-range='900']")
                page.wait_for_timeout(1_000)
            screenshot(page, name)
        finally:
            context.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots_of_a_diagnosis(
    browser: Browser, diagnosing: Console, lang: str, theme: str, size: str
) -> None:
    """The incidents view once the engine has diagnosed the database failing."""
    context = browser.new_context(
        viewport=SIZES[size], locale="ko-KR" if lang == "ko" else "en-GB", color_scheme=theme
    )
    page = context.new_page()
    try:
        open_console(page, diagnosing, "#/incidents")
        block = page.locator("#incidents .diagnosis[data-type]").first
        block.wait_for(timeout=60_000)
        assert page.get_attribute("html", "lang") == lang
        # The incident's head first, its diagnosis below it.
        page.evaluate("document.querySelector('#incidents li.incident').scrollIntoView()")
        page.wait_for_timeout(300)
        screenshot(page, f"diagnosis-{lang}-{theme}-{size}")
    finally:
        context.close()
