"""The console loads clean and shows every server, live."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Console, PageErrors, open_console


def test_loads_with_no_errors_and_shows_every_server(
    page: Page, console: Console, page_errors: PageErrors
) -> None:
    open_console(page, console, "#/servers")
    fleet = console.api("/fleet", params={"limit": 500})
    page.wait_for_function(
        "n => document.querySelectorAll('#grid .card:not([hidden])').length === n",
        arg=fleet["total"],
    )
    ids = page.eval_on_selector_all("#grid .card", "cards => cards.map(c => c.dataset.id)")
    assert sorted(ids) == sorted(s["id"] for s in fleet["servers"])
    for view in ("#/overview", "#/topology", "#/incidents", "#/server/db-01"):
        page.goto(f"{console.url}/{view}")
        page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("#chart canvas")
    page.wait_for_timeout(500)
    assert page_errors.all() == []
