"""Trend groups: slow climbs diagnosed with what else alerts around them."""

from __future__ import annotations

from lib.alerts import AlertGroup, GroupMember, Level
from lib.engine.trends import climbs, in_context, trend_id


def member(server: int, metric: str, *, open_: bool = True) -> GroupMember:
    return GroupMember(server, metric, Level.WARNING, 100, 110, open_)


def group(gid: str, root: int, *members: GroupMember) -> AlertGroup:
    return AlertGroup(gid, root, members, 100, 200, Level.WARNING)


TREND = group(trend_id("web-03", "disk_pct"), 5, member(5, "disk_pct"))


def test_a_climb_is_seen_with_the_open_alerts_of_its_server_groups() -> None:
    around = group("grp-lb-03-90", 2, member(2, "rps"), member(5, "rps"),
                   member(6, "rps", open_=False))  # fmt: skip
    elsewhere = group("grp-db-01-95", 9, member(9, "response_ms"))
    seen = in_context(TREND, [around, elsewhere])
    assert (seen.id, seen.root) == (TREND.id, TREND.root)
    assert seen.members == (member(5, "disk_pct"), member(2, "rps"), member(5, "rps"))
    assert climbs(seen) == ((5, "disk_pct"),)
    assert in_context(TREND, [elsewhere]) is TREND


def test_only_a_trend_group_climbs() -> None:
    assert climbs(group("grp-web-03-100", 5, member(5, "disk_pct"))) == ()
