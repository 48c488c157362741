"""Screenshots of the main views, light and dark, Korean and English, desktop and phone.

Written to tests/browser/artifacts/ (not committed) to be looked at; the test checks that each
view rendered its content in the asked language and theme before the picture is taken.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Console, open_console, screenshot

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
