"""Alert decisions, pure: levels, the pending → firing → resolved lifecycle, ids, grouping.

Scores and detector levels in, transitions and notifications out: no clock, no I/O, no store,
and nothing from ``lib.sim``. The state of every series is an ``AlertBook`` of numpy arrays
that the engine keeps in Redis between stateless calls.
"""

from lib.alerts.book import (
    OPEN_STATES,
    AlertBook,
    AlertState,
    series_of,
    server_metric_of,
)
from lib.alerts.grouping import DEFAULT_GROUPING, Grouping, GroupingParams, group_alerts
from lib.alerts.groups import AlertEvent, AlertGroup, GroupMember, Notification, alert_events
from lib.alerts.ids import alert_id, group_id
from lib.alerts.levels import (
    EVENT_LEVELS,
    NO_LEVEL,
    Level,
    event_level,
    notifiable,
    observed_levels,
    parse_level,
)
from lib.alerts.lifecycle import DEFAULT_PARAMS, AlertParams, Transition, step, step_many
from lib.alerts.operator import acknowledge, resolve_manually
from lib.alerts.summary import group_summary

__all__ = [
    "DEFAULT_GROUPING",
    "DEFAULT_PARAMS",
    "EVENT_LEVELS",
    "NO_LEVEL",
    "OPEN_STATES",
    "AlertBook",
    "AlertEvent",
    "AlertGroup",
    "AlertParams",
    "AlertState",
    "GroupMember",
    "Grouping",
    "GroupingParams",
    "Level",
    "Notification",
    "Transition",
    "acknowledge",
    "alert_events",
    "alert_id",
    "event_level",
    "group_alerts",
    "group_id",
    "group_summary",
    "notifiable",
    "observed_levels",
    "parse_level",
    "resolve_manually",
    "series_of",
    "server_metric_of",
    "step",
    "step_many",
]
