"""Settings an admin may change while the app runs, layered over the environment's.

The overrides live in the KV as one JSON object, field ``RUNTIME_FIELD`` of the engine's world
hash ``RUNTIME_KEY`` (written by ``PUT /api/settings``), so the one ``HGETALL`` a function
makes to learn the world also tells it the settings in force. ``effective_settings`` merges
them over ``Settings``. It is pure, so the engine calls it with whatever it read from the KV.
An override that is unknown or out of range (an older release wrote it, or someone edited the
KV by hand) is ignored, field by field: the environment's value stands and the engine keeps
running.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from lib.config import AlertLevel, Settings

if TYPE_CHECKING:
    from lib.store.kv import Kv

RUNTIME_KEY = "om:world"
"""The engine's world hash (``lib.engine.world.WORLD_KEY``; a test keeps the two equal)."""
RUNTIME_FIELD = "runtime"


def read_runtime(kv: Kv) -> str | None:
    """The stored overrides (JSON), or ``None``."""
    return kv.hget(RUNTIME_KEY, RUNTIME_FIELD)


def write_runtime(kv: Kv, runtime_json: str) -> None:
    kv.hset(RUNTIME_KEY, {RUNTIME_FIELD: runtime_json})


# The same bounds as the fields of ``Settings`` (tests/unit/test_runtime_settings.py checks).
FailureRatePerHour = Annotated[float, Field(ge=0.0, le=120.0)]
RecoverySuccessRate = Annotated[float, Field(ge=0.0, le=1.0)]
RetentionDays = Annotated[int, Field(ge=1, le=3650)]


class RuntimeSettings(BaseModel):
    """The runtime-adjustable settings in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failures_enabled: bool
    failure_rate_per_hour: FailureRatePerHour
    recovery_success_rate: RecoverySuccessRate
    auto_recovery: bool
    notify_min_level: AlertLevel
    retention_days: RetentionDays


RUNTIME_FIELDS = frozenset(RuntimeSettings.model_fields)


class RuntimeSettingsPatch(BaseModel):
    """A change to the overrides: a field set to a value overrides it, ``null`` removes the
    override (back to the environment's value), an absent field is left as it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    failures_enabled: bool | None = None
    failure_rate_per_hour: FailureRatePerHour | None = None
    recovery_success_rate: RecoverySuccessRate | None = None
    auto_recovery: bool | None = None
    notify_min_level: AlertLevel | None = None
    retention_days: RetentionDays | None = None


def valid_overrides(runtime_json: str | None) -> dict[str, Any]:
    """The overrides in ``runtime_json`` that are known fields with valid values."""
    try:
        raw = json.loads(runtime_json) if runtime_json else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in RUNTIME_FIELDS or value is None:
            continue
        try:
            patch = RuntimeSettingsPatch.model_validate({name: value})
        except pydantic.ValidationError:
            continue
        kept[name] = getattr(patch, name)
    return kept


def effective_settings(settings: Settings, runtime_json: str | None) -> RuntimeSettings:
    """The environment's runtime-adjustable settings with the valid overrides applied."""
    base = settings.model_dump(include=set(RUNTIME_FIELDS))
    return RuntimeSettings.model_validate(base | valid_overrides(runtime_json))


def apply_patch(runtime_json: str | None, patch: RuntimeSettingsPatch) -> dict[str, Any]:
    """The overrides after ``patch``: what ``PUT /api/settings`` stores."""
    overrides = valid_overrides(runtime_json)
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if value is None:
            overrides.pop(name, None)
        else:
            overrides[name] = value
    return overrides
