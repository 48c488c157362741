"""A push all the way to the desktop and back: Chromium shows ``sw.js``'s notification through
the desktop notification server (``tests/support/notification_daemon.py``, on a private D-Bus
bus) and a click there reaches the service worker as a person's would, with the right to
focus or open a window.

A persistent browser profile: Chromium routes notification clicks to a profile it can find
again, which a Playwright context's off-the-record profile is not.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright

from tests.browser.conftest import Console, open_console
from tests.browser.test_push import WAIT_S, deliver, incident_payload
from tests.support.notification_daemon import NotificationDaemon, Shown


@pytest.fixture(scope="module")
def daemon() -> Iterator[NotificationDaemon]:
    with NotificationDaemon() as server:
        yield server


@pytest.fixture
def desktop(
    playwright: Playwright,
    browser_type_launch_args: dict[str, Any],
    daemon: NotificationDaemon,
    console: Console,
) -> Iterator[BrowserContext]:
    """Chromium with a profile of its own, notifying through ``daemon``."""
    with tempfile.TemporaryDirectory(prefix="om-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            **browser_type_launch_args,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": daemon.address},
            locale="en-GB",
        )
        context.grant_permissions(["notifications"], origin=console.url)
        yield context
        context.close()


def dashboard(desktop: BrowserContext, console: Console) -> Page:
    page = desktop.pages[0] if desktop.pages else desktop.new_page()
    open_console(page, console)
    page.evaluate("async () => { await (await import('/js/push.js')).register(); }")
    return page


def shown(daemon: NotificationDaemon, title: str) -> Shown:
    """The notification titled ``title`` (the daemon serves every test of the module)."""
    for count in range(1, 100):
        found = [n for n in daemon.wait_shown(count, timeout_s=WAIT_S) if n.summary == title]
        if found:
            return found[-1]
    raise AssertionError(f"no notification titled {title!r}")


@pytest.mark.parametrize(
    ("level", "lang", "view", "dismiss", "urgency"),
    [
        ("critical", "ko", "보기", "닫기", "critical"),
        ("warning", "en", "View", "Dismiss", "normal"),
    ],
)
def test_the_desktop_shows_the_push_in_the_subscribers_language(
    desktop: BrowserContext,
    console: Console,
    daemon: NotificationDaemon,
    level: str,
    lang: str,
    view: str,
    dismiss: str,
    urgency: str,
) -> None:
    page = dashboard(desktop, console)
    data = incident_payload(f"inc-desk-{level}", level=level, lang=lang)
    deliver(page, console, data)
    notification = shown(daemon, data["title"])
    assert notification.body.endswith(data["body"])
    assert (notification.actions["0"], notification.actions["1"]) == (view, dismiss)
    # requireInteraction for critical: the desktop keeps it until someone acts.
    assert notification.urgency == urgency


def test_clicking_view_on_the_desktop_shows_the_incident_in_the_open_dashboard(
    desktop: BrowserContext, console: Console, daemon: NotificationDaemon
) -> None:
    page = dashboard(desktop, console)
    made = console.post("/incidents", {"type": "disk_full", "servers": ["db-01"], "duration_s": 60})
    data = incident_payload(made["id"], level="critical", lang="en")
    deliver(page, console, data)
    notification = shown(daemon, data["title"])

    daemon.click(notification.id, "0")  # "View"

    page.wait_for_selector(f"#incidents li[data-id='{made['id']}'][aria-current='true']")
    assert page.evaluate("location.hash") == "#/incidents"
    assert len(desktop.pages) == 1
    daemon.wait_closed(notification.id, timeout_s=WAIT_S)


def test_clicking_a_notification_with_no_dashboard_open_opens_one_on_the_incident(
    desktop: BrowserContext, console: Console, daemon: NotificationDaemon
) -> None:
    page = dashboard(desktop, console)
    made = console.post(
        "/incidents", {"type": "memory_leak", "servers": ["web-02"], "duration_s": 60}
    )
    data = incident_payload(made["id"], level="error", lang="en")
    deliver(page, console, data)
    notification = shown(daemon, data["title"])
    page.close()

    with desktop.expect_page(timeout=WAIT_S * 1000) as opened:
        daemon.click(notification.id)  # the notification's body

    new = opened.value
    new.wait_for_selector(f"#incidents li[data-id='{made['id']}'][aria-current='true']")
    assert new.evaluate("location.pathname + location.hash") == "/#/incidents"


def test_dismiss_on_the_desktop_closes_it_and_leaves_the_dashboard_alone(
    desktop: BrowserContext, console: Console, daemon: NotificationDaemon
) -> None:
    page = dashboard(desktop, console)
    data = incident_payload("inc-desk-dismiss", level="critical", lang="en")
    deliver(page, console, data)
    notification = shown(daemon, data["title"])

    daemon.click(notification.id, "1")  # "Dismiss"

    daemon.wait_closed(notification.id, timeout_s=WAIT_S)
    assert page.evaluate("location.hash") == "#/overview"
    assert len(desktop.pages) == 1


def test_a_payload_cannot_send_a_click_to_another_site(
    desktop: BrowserContext, console: Console, daemon: NotificationDaemon
) -> None:
    page = dashboard(desktop, console)
    data = incident_payload("inc-desk-elsewhere", level="error", lang="en")
    deliver(page, console, data | {"url": "https://evil.example/phish"})
    notification = shown(daemon, data["title"])
    page.close()

    with desktop.expect_page(timeout=WAIT_S * 1000) as opened:
        daemon.click(notification.id)

    opened.value.wait_for_load_state()
    assert opened.value.url == f"{console.url}/"
