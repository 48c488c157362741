"""``public/sw.js`` in Chromium: a push carrying what the server sends becomes a notification,
a newer one about the same incident replaces it, "dismiss" only closes it, the notification's
link opens the incident, and a renewed subscription reaches the server. (Clicks as a person
makes them, through the desktop: ``test_push_desktop.py``.)

The push goes through the browser's own push path (the DevTools protocol's
``ServiceWorker.deliverPushMessage``), the payload is made by ``lib.push.payload`` for a real
injected incident, and the notifications are read back with ``registration.getNotifications()``.
"Dismiss" here is a ``NotificationEvent`` dispatched inside the service worker, to see that
the handler does nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Worker

from lib.push.keys import generate
from lib.push.notices import Notice
from lib.push.payload import payload
from tests.browser.conftest import Console, PageErrors, open_console, serve_console
from tests.integration.http.conftest import state_of
from tests.support.push_service import PushService

WAIT_S = 15  # generous: the machine is shared, and showing a notification takes a moment
NOTIFICATIONS = """async (tag) => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications(tag ? {tag} : {})).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, lang: n.lang, icon: n.icon, badge: n.badge,
    requireInteraction: n.requireInteraction, actions: n.actions.map((a) => [a.action, a.title]),
    data: n.data,
  }));
}"""

# A click dispatched inside the service worker, with what the handler handed to
# ``waitUntil`` awaited (a synthetic event has no ``waitUntil`` of its own) and every
# ``clients.openWindow`` call recorded (and still made).
CLICK = """async ({tag, action}) => {
  const [notification] = await self.registration.getNotifications({tag});
  if (!notification) throw new Error(`no notification tagged ${tag}`);
  const opened = [];
  const openWindow = Clients.prototype.openWindow;
  Clients.prototype.openWindow = function (url) {
    opened.push(url);
    return openWindow.call(this, url);
  };
  const event = new NotificationEvent("notificationclick", {notification, action});
  const extensions = [];
  event.waitUntil = (promise) => extensions.push(promise);
  try {
    self.dispatchEvent(event);
    const outcomes = await Promise.allSettled(extensions);
    const refused = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason.message);
    return {opened, extended: extensions.length, refused};
  } finally {
    Clients.prototype.openWindow = openWindow;
  }
}"""


# The browser renewing a subscription: ``pushsubscriptionchange`` with the old subscription
# and the new one (made here: Chromium's off-the-record contexts have no push service), and
# what the handler handed to ``waitUntil`` awaited.
RENEW = """async ({old, fresh}) => {
  const event = new ExtendableEvent("pushsubscriptionchange");
  Object.defineProperties(event, {
    oldSubscription: {value: {endpoint: old}},
    newSubscription: {value: {endpoint: fresh.endpoint, toJSON: () => fresh}},
  });
  const extensions = [];
  event.waitUntil = (promise) => extensions.push(promise);
  self.dispatchEvent(event);
  await Promise.all(extensions);
  return extensions.length;
}"""


def incident_payload(incident_id: str, *, level: str, lang: str) -> dict[str, Any]:
    """What ``PushDispatch`` would send about ``incident_id`` (as ``lib.push.payload`` makes it)."""
    notice = Notice(
        key=f"{incident_id}:detected:1",
        kind="incident",
        change="opened",
        level=level,
        bucket=1,
        subject=incident_id,
        server="api-01",
        servers=("api-01",),
        incident_id=incident_id,
        title={
            "en": f"Incident: cpu_overload on api-01 ({incident_id})",
            "ko": "장애 발생: api-01",
        },
        body={"en": "CPU saturated. 1 server(s) affected.", "ko": "CPU 포화. 영향 서버 1대."},
    )
    return payload(notice, lang, time.time())


@pytest.fixture(scope="module")
def push_console() -> Iterator[Console]:
    """A console with Web Push on (a VAPID key pair set)."""
    keys = generate("mailto:ops@openmanager.example")
    yield from serve_console(
        vapid_private_key=keys.private_key,
        vapid_public_key=keys.public_key,
        vapid_subject=keys.subject,
    )


def registered(context: BrowserContext, page: Page, console: Console) -> Worker:
    """The dashboard open, notifications allowed, and ``sw.js`` registered and active."""
    context.grant_permissions(["notifications"], origin=console.url)
    open_console(page, console)
    page.evaluate("async () => { await (await import('/js/push.js')).register(); }")
    workers = context.service_workers or [context.wait_for_event("serviceworker")]
    assert workers[0].url == f"{console.url}/sw.js"
    return workers[0]


@pytest.fixture
def worker(context: BrowserContext, page: Page, console: Console) -> Worker:
    return registered(context, page, console)


def deliver(page: Page, console: Console, data: dict[str, Any]) -> None:
    """Push ``data`` to the dashboard's service worker through Chromium's push routing."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + WAIT_S
    while not any(r["scopeURL"] == f"{console.url}/" for r in registrations):
        assert time.monotonic() < deadline, registrations
        page.wait_for_timeout(50)
    registration = next(r for r in registrations if r["scopeURL"] == f"{console.url}/")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": console.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(data, ensure_ascii=False),
        },
    )
    cdp.detach()


def notifications(page: Page, tag: str, *, until: Callable[[list[Any]], bool]) -> list[Any]:
    """The notifications tagged ``tag`` once ``until`` holds (showing one takes a moment)."""
    deadline = time.monotonic() + WAIT_S
    while not until(found := page.evaluate(NOTIFICATIONS, tag)):
        assert time.monotonic() < deadline, found
        page.wait_for_timeout(50)
    return found


def shown(page: Page, tag: str) -> list[dict[str, Any]]:
    return notifications(page, tag, until=bool)


@pytest.mark.parametrize(
    ("level", "lang", "actions"),
    [
        ("critical", "en", [["view", "View"], ["dismiss", "Dismiss"]]),
        ("warning", "ko", [["view", "보기"], ["dismiss", "닫기"]]),
    ],
)
def test_a_push_shows_a_notification_tagged_by_incident(
    page: Page,
    console: Console,
    worker: Worker,
    page_errors: PageErrors,
    level: str,
    lang: str,
    actions: list[list[str]],
) -> None:
    data = incident_payload(f"inc-push-{level}", level=level, lang=lang)
    deliver(page, console, data)
    [notification] = shown(page, data["tag"])
    assert notification["title"] == data["title"]
    assert notification["body"] == data["body"]
    assert notification["tag"] == data["tag"]
    assert notification["lang"] == lang
    assert notification["requireInteraction"] is (level == "critical")
    assert notification["actions"] == actions
    assert notification["icon"] == f"{console.url}/icons/icon-192.png"
    assert notification["data"]["url"] == f"/?incident={data['incident_id']}"
    assert page_errors.all() == []


def test_a_newer_push_about_an_incident_replaces_the_older_one(
    page: Page, console: Console, worker: Worker
) -> None:
    opened = incident_payload("inc-push-replace", level="critical", lang="en")
    recovered = opened | {"change": "recovered", "level": "info", "title": "Recovered: api-01"}
    deliver(page, console, opened)
    shown(page, opened["tag"])
    deliver(page, console, recovered)
    [latest] = notifications(
        page, opened["tag"], until=lambda n: n and n[0]["title"] == "Recovered: api-01"
    )
    assert latest["requireInteraction"] is False


def test_dismiss_closes_the_notification_and_leaves_the_page_alone(
    page: Page, console: Console, worker: Worker
) -> None:
    data = incident_payload("inc-push-dismiss", level="critical", lang="en")
    deliver(page, console, data)
    shown(page, data["tag"])

    clicked = worker.evaluate(CLICK, {"tag": data["tag"], "action": "dismiss"})

    assert clicked == {"opened": [], "extended": 0, "refused": []}

    notifications(page, data["tag"], until=lambda n: n == [])
    assert page.evaluate("location.hash") == "#/overview"
    assert "incident" not in page.evaluate("document.body.dataset")


def test_the_link_of_a_notification_opens_the_incident(
    page: Page, console: Console, page_errors: PageErrors
) -> None:
    made = console.post(
        "/incidents", {"type": "memory_leak", "servers": ["web-01"], "duration_s": 60}
    )
    page.goto(f"{console.url}/?incident={made['id']}")
    page.wait_for_selector("body[data-ready='true']", timeout=15_000)
    page.wait_for_selector(f"#incidents li[data-id='{made['id']}'][aria-current='true']")
    assert page.evaluate("location.pathname + location.search + location.hash") == "/#/incidents"
    assert page_errors.all() == []


def test_a_renewed_subscription_replaces_the_old_one_and_keeps_its_preferences(
    context: BrowserContext, page: Page, push_console: Console
) -> None:
    sw = registered(context, page, push_console)
    with PushService() as service:
        old, fresh = service.subscribe(), service.subscribe()
    made = httpx.post(
        f"{push_console.url}/api/push/subscriptions",
        json=old.to_json() | {"preferences": {"min_level": "critical", "lang": "ko"}},
        timeout=10,
    )
    assert made.status_code == 201, made.text

    assert sw.evaluate(RENEW, {"old": old.endpoint, "fresh": fresh.to_json()}) == 1

    [renewed] = state_of(push_console.app).repo.list_push_subscriptions()
    assert (renewed.endpoint, renewed.p256dh, renewed.auth) == (
        fresh.endpoint,
        fresh.p256dh,
        fresh.auth,
    )
    assert (renewed.min_level, renewed.lang) == ("critical", "ko")


def test_the_panel_offers_push_when_the_server_has_keys(
    context: BrowserContext, page: Page, push_console: Console, page_errors: PageErrors
) -> None:
    context.grant_permissions(["notifications"], origin=push_console.url)
    open_console(page, push_console)
    page.click("#notify-open")
    # The panel says "not available" until push.js has asked the server and the browser.
    page.wait_for_function(
        "() => !document.querySelector('#notify-enable').disabled", timeout=WAIT_S * 1000
    )
    assert page.text_content("#notify-state") == "Push notifications are off."
    assert page_errors.all() == []
