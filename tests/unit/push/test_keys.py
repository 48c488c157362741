from __future__ import annotations

import pytest

from lib.config import Settings
from lib.errors import ConfigError
from lib.push.__main__ import main
from lib.push.keys import b64url_decode, from_settings, generate


def settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[arg-type]


def test_no_keys_means_push_is_off() -> None:
    assert from_settings(settings()) is None
    assert settings().push_enabled is False


def test_a_generated_pair_loads_and_has_the_browser_sizes() -> None:
    pair = generate("mailto:a@example.com")
    loaded = from_settings(
        settings(vapid_private_key=pair.private_key, vapid_public_key=pair.public_key)
    )
    assert loaded is not None
    assert loaded.public_key == pair.public_key
    assert len(b64url_decode(pair.public_key)) == 65
    assert b64url_decode(pair.public_key)[0] == 4
    assert len(b64url_decode(pair.private_key)) == 32


def test_halves_of_two_pairs_are_refused_naming_the_public_key() -> None:
    a, b = generate("mailto:a@example.com"), generate("mailto:a@example.com")
    with pytest.raises(ConfigError) as info:
        from_settings(settings(vapid_private_key=a.private_key, vapid_public_key=b.public_key))
    assert info.value.details["variable"] == "VAPID_PUBLIC_KEY"


@pytest.mark.parametrize("private", ["not*base64", "AAAA", ""])
def test_a_malformed_private_key_is_refused_without_echoing_it(private: str) -> None:
    pair = generate("mailto:a@example.com")
    with pytest.raises(ConfigError) as info:
        from_settings(settings(vapid_private_key=private, vapid_public_key=pair.public_key))
    assert info.value.details["variable"] == "VAPID_PRIVATE_KEY"
    assert private not in info.value.message or not private


def test_one_key_without_the_other_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY"):
        settings(vapid_public_key=generate("mailto:a@example.com").public_key)


def test_the_cli_prints_variables_that_configure_push(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "--subject", "mailto:ops@example.com"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "=" in line]
    values = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert set(values) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "VAPID_SUBJECT"}
    configured = settings(**{k.lower(): v for k, v in values.items()})
    assert from_settings(configured) is not None


@pytest.mark.parametrize("text", ["a+b/", "abc$", "a"])
def test_base64url_decoding_is_strict(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)
