from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib.config import Settings, load_settings
from lib.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_run_on_an_empty_environment() -> None:
    settings = load_settings(_env_file=None)
    assert settings.fleet_size == 30
    assert settings.bucket_seconds == 3
    assert settings.kv_backend == "memory"
    assert settings.db_backend == "sqlite"
    assert settings.recovery_success_rate == pytest.approx(0.89)


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_SIZE", "120")
    monkeypatch.setenv("AUTO_RECOVERY", "false")
    monkeypatch.setenv("NOTIFY_MIN_LEVEL", "critical")
    settings = load_settings(_env_file=None)
    assert (settings.fleet_size, settings.auto_recovery) == (120, False)
    assert settings.notify_min_level == "critical"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLEET_SIZE", "0"),
        ("FLEET_SIZE", "lots"),
        ("RECOVERY_SUCCESS_RATE", "1.5"),
        ("NOTIFY_MIN_LEVEL", "loud"),
        ("BUCKET_SECONDS", "-3"),
    ],
)
def test_malformed_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert variable in info.value.message
    assert info.value.details["variable"] == variable


def test_vercel_kv_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KV_REST_API_URL", "https://example.upstash.io")
    monkeypatch.setenv("KV_REST_API_TOKEN", "t0k")
    settings = load_settings(_env_file=None)
    assert settings.kv_backend == "upstash"
    assert settings.upstash_redis_rest_token is not None


def test_half_configured_store_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_URL", "https://x.supabase.co")
    with pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY"):
        load_settings(_env_file=None)


def test_secrets_never_appear_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", "super-secret-token")
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert "super-secret-token" not in str(info.value)


def test_unknown_variable_in_env_file_is_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("FLET_SIZE=3\n")
    with pytest.raises(ConfigError, match="FLET_SIZE"):
        load_settings(_env_file=env)


def _documented(text: str) -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text)) | set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M)
    )


def test_every_setting_is_documented_in_readme_and_env_example() -> None:
    readme = _documented((ROOT / "README.md").read_text())
    example = _documented((ROOT / ".env.example").read_text())
    for name, field in Settings.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [name.upper()]
        primary = str(aliases[0]).upper()
        assert primary in readme, f"{primary} missing from the README table"
        assert primary in example, f"{primary} missing from .env.example"
