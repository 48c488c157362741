"""An operator signs in, injects database_timeout into a database server through the panel,
sees the alert in the feed within the detection target and the card turn warning or critical,
acknowledges the alert, resolves the incident, and sees the card healthy again.

A database timeout ramps over 1 to 8 minutes (drawn per injection) before its metrics cross
the status limits, while its error rate may alert within a bucket or two. The engine's
automatic failover would end it about a minute after detection, before a slow ramp turned the
card, so this console leaves recovery to the operator: the failure acts as long as the ramp
needs, and the operator's resolve is the recovery. Its clock runs ``SPEED`` times faster than
the wall (one-second buckets, so ``SPEED`` buckets per second): the ramp's minutes and the
settling after the fix take seconds of the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import (
    Console,
    FastClock,
    PageErrors,
    open_console,
    serve_console,
    sign_in,
)

CARD = "#grid .card[data-id='{id}']"
TOAST_RECORDER = """() => {
  window.toastsSeen = [];
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) window.toastsSeen.push(n.textContent);
  }).observe(document.getElementById('toasts'), {childList: true});
}"""
SPEED = 8
# Simulated seconds: the slowest ramp (8 min) has reached its full strength, detected and
# shown by then.
RAMP_S = 480
# Metrics settle back over a minute once the failure ends, then the status follows.
SETTLE_S = 180


@pytest.fixture(scope="module")
def manual() -> Iterator[Console]:
    """A console of its own whose engine detects and diagnoses but leaves recovery to people."""
    yield from serve_console(FastClock(SPEED), auto_recovery=False)


def healthy_database(console: Console) -> str:
    fleet = console.api("/fleet", params={"role": "database", "limit": 500})
    return next(s["id"] for s in fleet["servers"] if s["status"] == "healthy")


def show_card(page: Page, console: Console, target: str) -> str:
    page.goto(f"{console.url}/#/servers")
    page.fill("#f-q", target)
    return CARD.format(id=target)


def test_inject_alert_and_recovery(page: Page, manual: Console, page_errors: PageErrors) -> None:
    console = manual
    target = healthy_database(console)
    open_console(page, console, "#/incidents")
    assert page.is_hidden("#inject-panel"), "viewers do not see the operator panel"
    sign_in(page)
    page.wait_for_selector("#inject-panel", state="visible")
    # A toast lives six seconds: keep what appeared (the console changes views by hash only).
    page.evaluate(TOAST_RECORDER)
    page.select_option("#inject-type", "database_timeout")
    page.fill("#inject-duration", "900")
    page.check(f"#inject-targets input[value='{target}']")
    page.click("#inject button[type='submit']")
    page.wait_for_function(
        "() => document.querySelector('#inject-result').value.includes('inj-')", timeout=10_000
    )
    injected = re.search(r"inj-(\d+)-", page.eval_on_selector("#inject-result", "el => el.value"))
    assert injected is not None
    start_bucket = int(injected.group(1))

    alert = f"#alerts li[data-server='{target}'][data-state='firing']"
    page.wait_for_selector(alert, timeout=RAMP_S * 1000 / SPEED)
    fired = page.get_attribute(alert, "data-id")
    assert fired is not None
    fired_bucket = int(fired.rsplit("-", 1)[1])
    # A drill has no precursor: nothing of it shows before its start (1-s buckets).
    assert 0 <= fired_bucket - start_bucket <= RAMP_S, (fired, start_bucket)
    page.wait_for_selector(
        f"#incidents li.incident.open .diagnosis[data-root='{target}']", timeout=10_000
    )
    page.click(f"#alerts li[data-id='{fired}'] button")
    page.wait_for_selector(f"#alerts li[data-id='{fired}'][data-state='acknowledged']")

    card = show_card(page, console, target)
    page.wait_for_selector(
        f"{card}:is([data-status='warning'], [data-status='critical'])",
        timeout=RAMP_S * 1000 / SPEED,
    )
    # The engine's grouped notification arrives on the stream as a toast.
    page.wait_for_function("() => window.toastsSeen.length > 0", timeout=30_000)

    page.goto(f"{console.url}/#/incidents")
    incident = f"#incidents li.incident.open:has(.diagnosis[data-root='{target}'])"
    page.click(f"{incident} .incident-head button")
    card = show_card(page, console, target)
    page.wait_for_selector(f"{card}[data-status='healthy']", timeout=SETTLE_S * 1000 / SPEED)
    page.goto(f"{console.url}/#/incidents")
    page.wait_for_selector(
        f"#incidents li.incident.closed:has(.diagnosis[data-root='{target}'])", timeout=30_000
    )
    assert page_errors.all() == []
