"""Live data: cards follow /api/fleet bucket by bucket, and a cut stream resumes with no gap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from lib.http.live import StreamTiming
from lib.http.routes.stream import stream_timing
from tests.browser.conftest import Console, PageErrors, open_console

SHOWN = """() => {
  const grid = document.querySelector('#grid');
  const bucket = Number(grid.dataset.bucket);
  const cards = [...grid.querySelectorAll('.card')]
    .filter(c => Number(c.dataset.bucket) === bucket);
  return {bucket, cpu: Object.fromEntries(cards.map(c => [c.dataset.id, Number(c.dataset.cpu)]))};
}"""


def test_cards_show_what_the_api_says_within_three_buckets(page: Page, console: Console) -> None:
    open_console(page, console, "#/servers")
    page.wait_for_selector("#grid .card[data-cpu]")
    first = page.evaluate(SHOWN)
    # Buckets are one second long: three buckets, plus a second of slack for the machine.
    page.wait_for_function(
        "b => Number(document.querySelector('#grid').dataset.bucket) > b",
        arg=first["bucket"],
        timeout=4_000,
    )
    shown = page.evaluate(SHOWN)
    assert shown["bucket"] > first["bucket"]
    assert len(shown["cpu"]) >= 5, "the cards on screen are patched every bucket"
    fleet = console.api("/fleet", params={"at": shown["bucket"], "limit": 500})
    expected = {s["id"]: s["metrics"]["cpu_pct"] for s in fleet["servers"]}
    for server, value in shown["cpu"].items():
        assert value == pytest.approx(expected[server], abs=0.01), server
    assert shown["cpu"] != first["cpu"], "live values move"


@pytest.fixture
def short_streams(console: Console) -> Iterator[None]:
    """Streams that close after three seconds, so that the browser reconnects often."""
    overrides: dict[Any, Any] = console.app.dependency_overrides
    overrides[stream_timing] = lambda: StreamTiming(max_duration_s=3.0)
    yield
    overrides.pop(stream_timing, None)


def test_a_cut_stream_reconnects_and_leaves_no_gap(
    page: Page, console: Console, page_errors: PageErrors, short_streams: None
) -> None:
    open_console(page, console, "#/servers")
    before = int(page.get_attribute("body", "data-stream-bucket") or 0)
    # Refuse every new connection while the open one closes: buckets pass unseen.
    page.route("**/api/stream**", lambda route: route.abort())
    page.wait_for_selector("#live:not([data-state='live'])", timeout=8_000)
    cut_at = int(page.get_attribute("body", "data-stream-bucket") or 0)
    page.wait_for_timeout(3_000)
    page.unroute("**/api/stream**")
    page.wait_for_selector("#live[data-state='live']", timeout=15_000)
    page.wait_for_function(
        "b => Number(document.body.dataset.streamBucket) >= b + 4", arg=cut_at, timeout=15_000
    )
    assert int(page.get_attribute("body", "data-stream-bucket") or 0) > before
    assert page.get_attribute("body", "data-gaps") is None, "the stream resumed with a gap"
    # Only the connections refused on purpose failed.
    unexpected = [e for e in page_errors.failed if "/api/stream" not in e]
    assert unexpected == []


def test_without_the_stream_the_page_polls(page: Page, console: Console) -> None:
    # A proxy that refuses event streams: the stream answers 503 every time.
    page.route("**/api/stream**", lambda route: route.fulfill(status=503, body="no streams"))
    page.goto(f"{console.url}/#/servers")
    page.wait_for_selector("#live[data-state='polling']", timeout=15_000)
    shown = int(page.get_attribute("#grid", "data-bucket") or 0)
    page.wait_for_function(
        "b => Number(document.querySelector('#grid').dataset.bucket) > b",
        arg=shown,
        timeout=5_000,
    )
    assert page.get_attribute("body", "data-stream-bucket") is None
