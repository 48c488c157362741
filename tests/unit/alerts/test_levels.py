import numpy as np
import pytest

from lib.alerts import EVENT_LEVELS, Level, event_level, notifiable, observed_levels, parse_level
from lib.alerts.groups import Notification
from lib.config import Settings
from lib.errors import ValidationError


def test_levels_are_ordered_and_named_like_the_settings():
    assert Level.INFO < Level.WARNING < Level.ERROR < Level.CRITICAL
    allowed = Settings.model_fields["notify_min_level"].annotation.__args__
    assert tuple(level.label for level in Level) == allowed
    assert [parse_level(name) for name in allowed] == list(Level)
    assert parse_level("CRITICAL") is Level.CRITICAL
    assert Level.CRITICAL.label_ko == "심각"


def test_unknown_level_names_the_field():
    with pytest.raises(ValidationError) as err:
        parse_level("fatal")
    assert err.value.details["field"] == "level"


def obs(hot, detector, run, offline=False, failed=False, after=3):
    return int(
        observed_levels(
            np.array([hot]),
            np.array([detector]),
            np.array([run]),
            np.array([offline]),
            np.array([failed]),
            after,
        )[0]
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((False, 0, 0), 0),
        ((True, 0, 0), Level.WARNING),  # score over enter_score, detector quiet
        ((True, 1, 0), Level.WARNING),  # detector warning
        ((True, 2, 1), Level.ERROR),  # detector critical
        ((True, 2, 3), Level.CRITICAL),  # critical sustained
        ((False, 0, 0, True), Level.CRITICAL),  # server offline
        ((True, 1, 0, False, True), Level.CRITICAL),  # failed automatic recovery
    ],
)
def test_observed_level_rules(args, expected):
    assert obs(*args) == expected


def test_informational_events_are_info_and_a_failed_recovery_is_critical():
    assert event_level("recovered") is Level.INFO
    assert event_level("resolved") is Level.INFO
    assert event_level("recovery_failed") is Level.CRITICAL
    assert set(EVENT_LEVELS) == {"recovery_started", "recovered", "resolved", "recovery_failed"}


def note(level):
    return Notification("g", "opened", level, 0, 0, (0,), ("cpu_pct",), "", "")


def test_notifications_below_the_minimum_level_are_dropped():
    items = [note(level) for level in Level]
    assert [n.level for n in notifiable(items, "warning")] == [
        Level.WARNING,
        Level.ERROR,
        Level.CRITICAL,
    ]
    assert notifiable(items, Level.CRITICAL) == items[-1:]
    assert notifiable(items, "info") == items
