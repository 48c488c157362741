"""Runtime overrides merged over the environment: pure, and forgiving of bad stored values."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.config import Settings
from lib.runtime_settings import (
    RUNTIME_FIELDS,
    RuntimeSettings,
    RuntimeSettingsPatch,
    apply_patch,
    effective_settings,
    valid_overrides,
)

ENV = Settings(_env_file=None, retention_days=14)  # type: ignore[call-arg]


def test_the_bounds_are_those_of_settings() -> None:
    for name in RUNTIME_FIELDS:
        ours, theirs = RuntimeSettings.model_fields[name], Settings.model_fields[name]
        assert ours.annotation == theirs.annotation, name
        assert ours.metadata == theirs.metadata, name


def test_without_overrides_the_environment_stands() -> None:
    for runtime_json in (None, "", "{}"):
        effective = effective_settings(ENV, runtime_json)
        assert effective.model_dump() == ENV.model_dump(include=set(RUNTIME_FIELDS))


def test_valid_overrides_apply() -> None:
    effective = effective_settings(ENV, '{"retention_days": 3, "failures_enabled": false}')
    assert (effective.retention_days, effective.failures_enabled) == (3, False)
    assert effective.recovery_success_rate == ENV.recovery_success_rate


@pytest.mark.parametrize(
    "runtime_json",
    [
        "not json",
        "[1, 2]",
        '{"retention_days": -1}',
        '{"retention_days": "many"}',
        '{"notify_min_level": "loud"}',
        '{"fleet_size": 5}',
        '{"retention_days": null}',
    ],
)
def test_bad_stored_values_are_ignored(runtime_json: str) -> None:
    assert effective_settings(ENV, runtime_json) == effective_settings(ENV, None)


def test_bad_fields_do_not_spoil_good_ones() -> None:
    effective = effective_settings(ENV, '{"retention_days": 0, "auto_recovery": false}')
    assert (effective.retention_days, effective.auto_recovery) == (14, False)


def test_a_patch_sets_drops_and_keeps() -> None:
    stored = json.dumps({"retention_days": 3, "auto_recovery": False})
    patch = RuntimeSettingsPatch.model_validate({"retention_days": None, "failures_enabled": False})
    assert apply_patch(stored, patch) == {"auto_recovery": False, "failures_enabled": False}


_JSON_VALUES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from([*sorted(RUNTIME_FIELDS), "other"]), _JSON_VALUES, max_size=7)
)
def test_any_stored_object_gives_valid_settings(raw: dict[str, object]) -> None:
    runtime_json = json.dumps(raw)
    overrides = valid_overrides(runtime_json)
    effective = effective_settings(ENV, runtime_json)
    assert set(overrides) <= RUNTIME_FIELDS & set(raw)
    for name, value in effective.model_dump().items():
        assert value == overrides.get(name, getattr(ENV, name))


def test_runtime_settings_live_in_the_engine_world_hash() -> None:
    from lib.engine.world import WORLD_KEY
    from lib.runtime_settings import RUNTIME_KEY

    assert RUNTIME_KEY == WORLD_KEY
