"""Replay moves the console to an hour ago, showing that moment's values, and back to live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Console, PageErrors, open_console
from tests.browser.test_live import SHOWN


def test_an_hour_ago_and_back(page: Page, console: Console, page_errors: PageErrors) -> None:
    open_console(page, console, "#/servers")
    live_bucket = int(page.get_attribute("#grid", "data-bucket") or 0)
    page.click("#replay-hour")
    page.wait_for_selector("body[data-mode='replay']")
    page.wait_for_selector("#live[data-state='replay']")
    replay_bucket = int(page.get_attribute("body", "data-replay-bucket") or 0)
    # One-second buckets: an hour is 3600 of them (a second of slack for the click).
    assert live_bucket - 3600 - 2 <= replay_bucket <= live_bucket - 3600 + 2
    page.wait_for_function(
        "b => Number(document.querySelector('#grid').dataset.bucket) === b", arg=replay_bucket
    )
    page.wait_for_timeout(1_500)  # live snapshots keep arriving: the view must not move
    shown = page.evaluate(SHOWN)
    assert shown["bucket"] == replay_bucket
    fleet = console.api("/fleet", params={"at": replay_bucket, "limit": 500})
    expected = {s["id"]: s["metrics"]["cpu_pct"] for s in fleet["servers"]}
    assert len(shown["cpu"]) >= 5
    for server, value in shown["cpu"].items():
        assert value == pytest.approx(expected[server], abs=0.01), server
    page.click("#replay-live")
    page.wait_for_selector("body[data-mode='live']")
    page.wait_for_function(
        "b => Number(document.querySelector('#grid').dataset.bucket) > b", arg=live_bucket
    )
    page.wait_for_selector("#live[data-state='live']")
    assert page_errors.all() == []
