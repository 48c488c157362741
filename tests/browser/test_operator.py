"""An operator signs in, injects a network failure into a database server through the panel,
sees the card turn warning or critical and the alert in the feed, acknowledges it, and sees the
card healthy again once the engine's recovery has worked."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Console, PageErrors, open_console, sign_in

CARD = "#grid .card[data-id='{id}']"


def healthy_database(console: Console) -> str:
    fleet = console.api("/fleet", params={"role": "database", "limit": 500})
    return next(s["id"] for s in fleet["servers"] if s["status"] == "healthy")


def test_inject_alert_and_recovery(page: Page, console: Console, page_errors: PageErrors) -> None:
    target = healthy_database(console)
    open_console(page, console, "#/incidents")
    assert page.is_hidden("#inject-panel"), "viewers do not see the operator panel"
    sign_in(page)
    page.wait_for_selector("#inject-panel", state="visible")
    page.select_option("#inject-type", "network_failure")  # sudden: a DB timeout ramps
    page.fill("#inject-duration", "30")
    page.check(f"#inject-targets input[value='{target}']")
    page.click("#inject button[type='submit']")
    page.wait_for_function(
        "() => document.querySelector('#inject-result').value.includes('inj-')", timeout=10_000
    )

    page.goto(f"{console.url}/#/servers")
    page.fill("#f-q", target)
    card = CARD.format(id=target)
    page.wait_for_selector(
        f"{card}:is([data-status='warning'], [data-status='critical'])", timeout=20_000
    )
    # The engine's grouped notification arrives on the stream as a toast.
    page.wait_for_selector(".toast", timeout=30_000)

    page.goto(f"{console.url}/#/incidents")
    alert = f"#alerts li[data-server='{target}'][data-state='firing']"
    page.wait_for_selector(alert, timeout=30_000)
    page.wait_for_selector("#incidents li.incident.open", timeout=10_000)
    acknowledged = page.get_attribute(alert, "data-id")
    page.click(f"#alerts li[data-id='{acknowledged}'] button")
    page.wait_for_selector(f"#alerts li[data-id='{acknowledged}'][data-state='acknowledged']")

    page.goto(f"{console.url}/#/servers")
    page.fill("#f-q", target)
    page.wait_for_selector(f"{card}[data-status='healthy']", timeout=90_000)
    assert page_errors.all() == []
