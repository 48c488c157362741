"""Audit entries read back from logs: what ``scripts/replay_audit.py`` writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from lib.http.audit import QUEUED, queued_entries
from lib.store.db import AuditEntry


def entry(action: str) -> AuditEntry:
    return AuditEntry(
        id=uuid.uuid4(),
        at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="user:alice",
        role="operator",
        action=action,
        target="web-01",
        client_ip="203.0.113.7",
        details={"n": 1},
    )


def test_entries_come_back_from_any_prefix_and_bad_lines_are_named() -> None:
    a, b = entry("failure.inject"), entry("incident.resolve")
    lines = [
        "booting",
        f"2026-01-01 00:00:01 WARNING openmanager.audit {QUEUED}{a.model_dump_json()}",
        f"{QUEUED}{{not json",
        f"[api/index] {QUEUED}{b.model_dump_json()}  ",
        f'{QUEUED}{{"id": "x"}}',
    ]
    entries, unreadable = queued_entries(lines)
    assert entries == [a, b]
    assert unreadable == [3, 5]
