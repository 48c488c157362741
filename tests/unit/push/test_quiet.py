from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lib.push.notices import Notice
from lib.push.quiet import LATE_AFTER_S, MAX_NOTICES, capped, collapse, mark_late, wants
from lib.store.db import PushSubscriptionRecord


def notice(subject: str, change: str, level: str, bucket: int, **changes: object) -> Notice:
    base = Notice(
        key=f"{subject}:{change}:{bucket}",
        kind="incident",
        change=change,
        level=level,
        bucket=bucket,
        subject=subject,
        server="api-01",
        servers=("api-01", "api-02"),
        roles=("api",),
        regions=("eu-west-1",),
        incident_id=subject,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def subscription(**fields: object) -> PushSubscriptionRecord:
    return PushSubscriptionRecord.model_validate(
        {"endpoint": "https://push.example/1", "p256dh": "k", "auth": "a"}
        | {"created_at": datetime(2026, 1, 1, tzinfo=UTC)}
        | fields
    )


@pytest.mark.parametrize(
    ("fields", "wanted"),
    [
        ({}, True),
        ({"min_level": "critical"}, False),
        ({"min_level": "error"}, True),
        ({"servers": ["api-02"]}, True),
        ({"servers": ["db-01"]}, False),
        ({"roles": ["api", "web"]}, True),
        ({"roles": ["cache"]}, False),
        ({"regions": ["eu-west-1"]}, True),
        ({"regions": ["us-east-1"]}, False),
    ],
)
def test_preferences_select_notices(fields: dict[str, object], wanted: bool) -> None:
    assert wants(subscription(**fields), notice("inc-1", "opened", "error", 5)) is wanted


def test_steps_of_one_incident_collapse_into_its_latest_at_its_highest_level() -> None:
    chain = [
        notice("inc-1", "opened", "error", 10),
        notice("inc-2", "opened", "warning", 11),
        notice("inc-1", "recovery_attempted", "info", 12),
        notice("inc-1", "recovered", "info", 20),
    ]
    merged = collapse(chain)
    assert [(n.subject, n.change, n.level) for n in merged] == [
        ("inc-2", "opened", "warning"),
        ("inc-1", "recovered", "error"),
    ]
    assert merged[1].history == ("opened", "recovery_attempted", "recovered")


def test_only_notices_older_than_the_threshold_are_late() -> None:
    notices = [notice("a", "opened", "error", 0), notice("b", "opened", "error", 100)]
    marked = mark_late(notices, now_s=LATE_AFTER_S + 1.0, start_of=float)
    assert [n.late for n in marked] == [True, False]


def test_a_flood_becomes_the_most_severe_and_one_digest() -> None:
    flood = [notice(f"inc-{i}", "opened", "warning", i) for i in range(50)]
    flood[7] = notice("inc-7", "opened", "critical", 7)
    out = capped(flood)
    assert len(out) == MAX_NOTICES
    digests = [n for n in out if n.kind == "digest"]
    assert len(digests) == 1
    assert digests[0].title["en"] == f"{50 - MAX_NOTICES + 1} more notifications"
    assert "inc-7" in {n.subject for n in out}
    assert capped(flood[:5]) == flood[:5]
