"""The notifications panel opens, says whether Web Push can be used here, and closes by key."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Console, open_console


def test_panel_states_push_and_closes_with_escape(page: Page, console: Console) -> None:
    open_console(page, console)
    page.click("#notify-open")
    assert page.get_attribute("#notify-open", "aria-expanded") == "true"
    page.wait_for_function("() => document.querySelector('#notify-state').textContent !== ''")
    # This console has no VAPID keys: push is off on the server, so the panel offers nothing
    # (tests/browser/test_push.py has the console with keys).
    assert page.text_content("#notify-state") == "Web Push is not available here."
    assert page.is_disabled("#notify-enable")
    page.keyboard.press("Escape")
    assert page.is_hidden("#notify")
    assert page.evaluate("document.activeElement.id") == "notify-open"
