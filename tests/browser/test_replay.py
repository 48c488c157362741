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


AS_OF = """async () => {
  const { alertAsOf, incidentAsOf } = await import('/js/asof.js');
  const at = Date.parse('2026-01-01T10:00:00Z');
  const alert = { fired_at: '2026-01-01T09:00:00Z', acknowledged_at: '2026-01-01T09:30:00Z',
                  acknowledged_by: 'op', resolved_at: '2026-01-01T11:00:00Z', state: 'resolved' };
  const step = (t, event) => ({ at: `2026-01-01T${t}:00Z`, event });
  const incident = {
    started_at: '2026-01-01T08:00:00Z', detected_at: '2026-01-01T08:01:00Z', injected: false,
    recovery_attempted_at: '2026-01-01T09:00:00Z', recovered_at: '2026-01-01T10:30:00Z',
    status: 'recovered', open: false,
    summary: { en: 'api_failure on api-01 (1 server): recovered',
               ko: 'api-01 API 장애 (서버 1대): 복구됨' },
    timeline: [step('08:00', 'started'), step('08:01', 'detected'),
               step('09:00', 'recovery_started'), step('10:30', 'recovered')],
  };
  const later = { ...incident, started_at: '2026-01-01T10:10:00Z' };
  const undetected = { ...incident, detected_at: '2026-01-01T10:05:00Z' };
  const i = incidentAsOf(incident, at);
  // A leak nobody fixed: escalated, closed by itself at 09:00, back at 10:00, closed at 11:00.
  const leak = {
    ...incident, recovered_at: null, escalated_at: '2026-01-01T08:10:00Z',
    resolved_at: '2026-01-01T11:00:00Z', status: 'resolved', open: false,
    summary: { en: 'memory_leak on api-01 (1 server): resolved',
               ko: 'api-01 메모리 누수 (서버 1대): 해결됨' },
    timeline: [step('08:00', 'started'), step('08:01', 'detected'),
               step('08:02', 'recovery_started'), step('08:10', 'recovery_failed'),
               step('08:10', 'escalated'), step('09:00', 'closed'), step('10:00', 'reopened'),
               step('11:00', 'closed')],
  };
  // One that closed by itself and is open again now.
  const back = {
    ...incident, recovery_attempted_at: null, recovered_at: null, status: 'active', open: true,
    summary: { en: 'cpu_overload on web-01 (1 server): active',
               ko: 'web-01 CPU 과부하 (서버 1대): 진행 중' },
    timeline: [step('08:00', 'started'), step('08:01', 'detected'), step('09:00', 'closed'),
               step('10:00', 'reopened')],
  };
  const seen = (record, times) => times.map((t) => {
    const then = incidentAsOf(record, Date.parse(`2026-01-01T${t}:00Z`));
    return [then.status, then.open, then.summary.en];
  });
  return {
    alert: alertAsOf(alert, at).state,
    by: alertAsOf(alert, at).acknowledged_by,
    before: alertAsOf(alert, Date.parse('2026-01-01T08:59:00Z')),
    incident: [i.status, i.open, i.timeline.map((s) => s.event)],
    later: incidentAsOf(later, at),
    undetected: incidentAsOf(undetected, at),
    leak: seen(leak, ['08:05', '08:30', '09:30', '10:30', '11:30']),
    back: seen(back, ['08:30', '09:30', '10:30']),
  };
}"""


def test_incidents_and_alerts_as_they_stood(page: Page, console: Console) -> None:
    open_console(page, console, "#/incidents")
    # The rules, on records whose every step is known: what had happened by 10:00 only.
    assert page.evaluate(AS_OF) == {
        "alert": "acknowledged",
        "by": "op",
        "before": None,
        "incident": ["recovering", True, ["started", "detected", "recovery_started"]],
        "later": None,
        "undetected": None,
        # Closed between its two stretches, not escalated or open all along.
        # The summary keeps its status only where it is the record's own.
        "leak": [
            ["recovering", True, "memory_leak on api-01 (1 server)"],
            ["escalated", True, "memory_leak on api-01 (1 server)"],
            ["resolved", False, "memory_leak on api-01 (1 server): resolved"],
            ["escalated", True, "memory_leak on api-01 (1 server)"],
            ["resolved", False, "memory_leak on api-01 (1 server): resolved"],
        ],
        "back": [
            ["active", True, "cpu_overload on web-01 (1 server): active"],
            ["resolved", False, "cpu_overload on web-01 (1 server)"],
            ["active", True, "cpu_overload on web-01 (1 server): active"],
        ],
    }
    # And the console: an incident injected now is listed live, not an hour ago.
    made = console.post(
        "/incidents", {"type": "memory_leak", "servers": ["api-01"], "duration_s": 30}
    )
    item = f"#incidents li[data-id='{made['id']}']"
    page.wait_for_selector(item)
    page.click("#replay-hour")
    page.wait_for_selector("#view-incidents:not([data-at='live'])")
    assert page.locator(item).count() == 0
    late = page.evaluate(
        """() => {
          const at = Date.parse(document.querySelector('#view-incidents').dataset.at);
          return [...document.querySelectorAll('#alerts li[data-id]')]
            .filter((li) => !(Date.parse(li.dataset.fired) <= at)).map((li) => li.dataset.id);
        }"""
    )
    assert late == []
    assert page.locator("#incidents button, #alerts button").count() == 0  # the past is read-only
    page.click("#replay-live")
    page.wait_for_selector("#view-incidents[data-at='live']")
    page.wait_for_selector(item)
