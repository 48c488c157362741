import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.alerts import (
    AlertBook,
    AlertEvent,
    AlertGroup,
    AlertParams,
    GroupingParams,
    Level,
    acknowledge,
    alert_events,
    group_alerts,
    notifiable,
    step_many,
)

# web-01 and web-02 call api-01; api-01 calls db-01 and cache-01; batch-01 stands alone.
IDS = ["web-01", "web-02", "api-01", "db-01", "cache-01", "batch-01"]
DEPS = [[2], [2], [3, 4], [], [], []]
WEB1, WEB2, API, DB, CACHE, BATCH = range(6)
NOW = GroupingParams(group_wait_buckets=0)


def fired(server, metric="response_ms", level=Level.WARNING, bucket=10, onset=None):
    onset = bucket if onset is None else onset
    return AlertEvent("fired", server, metric, level, bucket, onset, bucket)


def test_a_cascade_is_one_notification_rooted_at_the_dependency():
    events = [
        fired(WEB1, onset=9),
        fired(API, "error_pct", onset=8),
        fired(DB, level=Level.ERROR, onset=7),
        fired(WEB2, onset=9),
    ]
    result = group_alerts(events, [], DEPS, IDS, 10, NOW)
    (note,) = result.notifications
    assert note.reason == "opened"
    assert note.root == DB
    assert note.level == Level.ERROR
    assert note.servers == (WEB1, WEB2, API, DB)
    assert note.summary_ko == "db-01 응답 지연이 api-01, web-01, web-02에 영향 (오류)"
    assert note.summary_en == "db-01 response time (error) affecting api-01, web-01, web-02"
    (group,) = result.groups
    assert group.id == note.group_id == "grp-db-01-10"


def test_onset_ties_go_to_the_most_upstream_server():
    events = [fired(WEB1, onset=5), fired(API, onset=5), fired(DB, onset=5)]
    (note,) = group_alerts(events, [], DEPS, IDS, 10, NOW).notifications
    assert note.root == DB


def test_unrelated_servers_get_their_own_notifications():
    # web-01 and web-02 share api-01 but neither depends on the other.
    events = [fired(WEB1), fired(WEB2), fired(BATCH)]
    notes = group_alerts(events, [], DEPS, IDS, 10, NOW).notifications
    assert sorted(n.root for n in notes) == [WEB1, WEB2, BATCH]


def test_joining_is_silent_unless_the_level_escalates():
    first = group_alerts([fired(DB, bucket=10)], [], DEPS, IDS, 10, NOW)
    joined = group_alerts([fired(API, bucket=12)], first.groups, DEPS, IDS, 12, NOW)
    assert joined.notifications == ()
    assert joined.groups[0].servers == (API, DB)
    worse = group_alerts(
        [fired(WEB1, level=Level.CRITICAL, bucket=13)], joined.groups, DEPS, IDS, 13, NOW
    )
    (note,) = worse.notifications
    assert note.reason == "escalated"
    assert note.level == Level.CRITICAL
    assert note.summary_en.startswith("Escalated to critical: db-01")


def test_an_escalation_of_a_member_raises_the_group_once():
    first = group_alerts([fired(DB)], [], DEPS, IDS, 10, NOW)
    up = AlertEvent("escalated", DB, "response_ms", Level.ERROR, 11, 10, 10)
    second = group_alerts([up], first.groups, DEPS, IDS, 11, NOW)
    assert [n.reason for n in second.notifications] == ["escalated"]
    again = group_alerts([up], second.groups, DEPS, IDS, 12, NOW)
    assert again.notifications == ()


def test_past_the_horizon_a_related_alert_opens_a_new_group():
    params = GroupingParams(horizon_buckets=5, group_wait_buckets=0)
    first = group_alerts([fired(DB, bucket=10)], [], DEPS, IDS, 10, params)
    later = group_alerts([fired(API, bucket=16)], first.groups, DEPS, IDS, 16, params)
    assert [n.reason for n in later.notifications] == ["opened"]
    assert len(later.groups) == 2


def test_a_group_closes_with_an_info_notification_when_its_last_alert_resolves():
    first = group_alerts([fired(DB), fired(API)], [], DEPS, IDS, 10, NOW)
    gone = AlertEvent("resolved", DB, "response_ms", Level.WARNING, 20, 10, 10)
    half = group_alerts([gone], first.groups, DEPS, IDS, 20, NOW)
    assert half.notifications == ()
    gone_too = AlertEvent("resolved", API, "response_ms", Level.WARNING, 21, 10, 10)
    done = group_alerts([gone_too], half.groups, DEPS, IDS, 21, NOW)
    (note,) = done.notifications
    assert note.reason == "resolved"
    assert note.level == Level.INFO
    assert done.groups == ()
    assert notifiable(done.notifications, "warning") == []


def test_the_first_notification_waits_and_siblings_merge_when_their_dependency_alerts():
    wait = GroupingParams(group_wait_buckets=3)
    # Two web servers fire first: unrelated to each other, two groups, nothing said yet.
    first = group_alerts([fired(WEB1, onset=8), fired(WEB2, onset=9)], [], DEPS, IDS, 10, wait)
    assert first.notifications == ()
    assert len(first.groups) == 2
    # The api they both call fires next with an earlier onset: one group, one root.
    second = group_alerts([fired(API, bucket=11, onset=7)], first.groups, DEPS, IDS, 11, wait)
    assert second.merged == (("grp-web-02-10", "grp-web-01-10"),)
    assert second.notifications == ()
    quiet = group_alerts([], second.groups, DEPS, IDS, 12, wait)
    assert quiet.notifications == ()
    due = group_alerts([], quiet.groups, DEPS, IDS, 13, wait)
    (note,) = due.notifications
    assert (note.reason, note.root, note.group_id) == ("opened", API, "grp-web-01-10")
    assert note.summary_en == "api-01 response time (warning) affecting web-01, web-02"


def test_a_group_that_closes_before_notifying_says_nothing():
    first = group_alerts([fired(BATCH)], [], DEPS, IDS, 10)
    gone = AlertEvent("resolved", BATCH, "response_ms", Level.WARNING, 11, 10, 10)
    result = group_alerts([gone], first.groups, DEPS, IDS, 11)
    assert result == type(result)(groups=(), notifications=())


def test_groups_round_trip_through_json_dicts():
    result = group_alerts([fired(DB), fired(API, level=Level.ERROR)], [], DEPS, IDS, 10)
    (group,) = result.groups
    assert group.notified_level is None
    assert AlertGroup.from_dict(group.to_dict()) == group
    told = group_alerts([], result.groups, DEPS, IDS, 12).groups[0]
    assert told.notified_level == Level.ERROR
    assert AlertGroup.from_dict(json.loads(json.dumps(told.to_dict()))) == told


def test_alert_events_keep_fires_loud_escalations_and_resolutions():
    metrics = ["cpu_pct", "response_ms"]
    book = AlertBook.empty(len(IDS) * 2)
    scores = np.zeros((2, book.n_series))
    scores[:, DB * 2 + 1] = 0.9
    scores[:, API * 2 + 1] = 0.9
    book, transitions = step_many(book, scores, np.zeros(scores.shape, np.int8), 0)
    events = alert_events(transitions, metrics)
    assert [(e.kind, e.server, e.metric) for e in events] == [
        ("fired", API, "response_ms"),
        ("fired", DB, "response_ms"),
    ]
    book, _ = acknowledge(book, API * 2 + 1, 2)
    levels = np.zeros((1, book.n_series), np.int8)
    levels[0, [API * 2 + 1, DB * 2 + 1]] = 2
    book, transitions = step_many(book, scores[:1], levels, 2)
    assert [t.kind for t in transitions] == ["escalated", "escalated"]
    assert [(e.kind, e.server) for e in alert_events(transitions, metrics)] == [("escalated", DB)]
    params = AlertParams(clear_buckets=1)
    _, transitions = step_many(book, np.zeros((1, book.n_series)), levels * 0, 3, params)
    assert {e.kind for e in alert_events(transitions, metrics)} == {"resolved"}


@st.composite
def cascades(draw):
    """A random DAG (servers depend on lower indices) and an anomaly spreading from one root."""
    n = draw(st.integers(2, 12))
    deps = [sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)]
    root = draw(st.integers(0, n - 1))
    downstream = [i for i in range(n) if i != root and _reaches(deps, i, root)]
    members = (
        [root, *draw(st.lists(st.sampled_from(downstream), unique=True))] if downstream else [root]
    )
    onset = {root: 100}
    for m in members[1:]:
        onset[m] = 100 + draw(st.integers(0, 5))
    fire = {m: onset[m] + draw(st.integers(1, 4)) for m in members}
    return n, deps, root, onset, fire


def _reaches(deps, start, target):
    seen, todo = set(), [start]
    while todo:
        s = todo.pop()
        if s == target:
            return True
        if s not in seen:
            seen.add(s)
            todo.extend(deps[s])
    return False


@settings(max_examples=120, deadline=None)
@given(cascades())
def test_property_a_cascade_is_one_notification_with_the_right_root(case):
    n, deps, root, onset, fire = case
    ids = [f"s-{i:02d}" for i in range(n)]
    # Fires spread over at most 8 buckets; a 9-bucket wait gathers the whole cascade.
    params = GroupingParams(group_wait_buckets=9)
    groups, notes = (), []
    for bucket in range(min(fire.values()), max(fire.values()) + 10):
        events = [
            AlertEvent("fired", m, "cpu_pct", Level.WARNING, bucket, onset[m], bucket)
            for m in fire
            if fire[m] == bucket
        ]
        result = group_alerts(events, groups, deps, ids, bucket, params)
        groups, notes = result.groups, notes + list(result.notifications)
    (note,) = notes
    assert note.reason == "opened"
    assert note.root == root
    (group,) = groups
    assert group.root == root
    assert set(group.servers) == set(fire)
