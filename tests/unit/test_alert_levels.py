"""The alert-level vocabulary is defined once and every layer agrees with it."""

from __future__ import annotations

import typing

import pytest

from lib.alert_levels import ALERT_LEVELS, AlertLevel, level_name
from lib.alerts import Level, parse_level
from lib.config import Settings
from lib.store.db import levels_admitting


def test_codes_and_names_agree() -> None:
    assert ALERT_LEVELS == ("info", "warning", "error", "critical")
    assert [lv.label for lv in Level] == list(ALERT_LEVELS)
    assert [level_name(int(lv)) for lv in Level] == list(ALERT_LEVELS)
    assert all(parse_level(name).label == name for name in ALERT_LEVELS)


def test_no_level_has_no_name() -> None:
    with pytest.raises(ValueError, match="no alert level 0"):
        level_name(0)
    with pytest.raises(ValueError, match="no alert level 5"):
        level_name(5)


def test_settings_and_stores_use_the_same_names() -> None:
    hints = typing.get_type_hints(Settings)
    assert typing.get_args(hints["notify_min_level"]) == typing.get_args(AlertLevel)
    assert levels_admitting("critical") == ALERT_LEVELS
