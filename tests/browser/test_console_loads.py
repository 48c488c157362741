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


def test_the_fleet_and_the_stream_come_first(page: Page, console: Console) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.removeprefix(console.url)))
    open_console(page, console, "#/overview")
    page.wait_for_selector("#sla:not([aria-busy])")
    api = [u.split("?")[0] for u in asked if u.startswith("/api/")]
    # The preloaded first page is the one the console reads: asked for once.
    assert [u for u in asked if u.startswith("/api/fleet")] == ["/api/fleet?limit=500"]
    assert api.index("/api/fleet") < api.index("/api/stream")
    # What can wait (the SLA panel, incidents, alerts) is asked for once the page is live.
    for later in ("/api/analytics/sla", "/api/incidents", "/api/alerts"):
        assert api.index("/api/stream") < api.index(later), api
