"""The notifications panel opens, says whether Web Push can be used here, and closes by key."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.conftest import Console, open_console

PUSH_CLIENT = Path(__file__).parents[2] / "public" / "js" / "push.js"


def test_panel_states_push_and_closes_with_escape(page: Page, console: Console) -> None:
    open_console(page, console)
    page.click("#notify-open")
    assert page.get_attribute("#notify-open", "aria-expanded") == "true"
    page.wait_for_function("() => document.querySelector('#notify-state').textContent !== ''")
    text = page.text_content("#notify-state") or ""
    if not PUSH_CLIENT.exists():
        # Without the push branch's client the panel says so and offers nothing to click.
        assert text == "Web Push is not available here."
        assert page.is_disabled("#notify-enable")
    else:
        assert text in {"Push notifications are on.", "Push notifications are off."} or (
            text == "Web Push is not available here."
        )
    page.keyboard.press("Escape")
    assert page.is_hidden("#notify")
    assert page.evaluate("document.activeElement.id") == "notify-open"
