"""Shared fixtures: real services start once per run; our environment is scrubbed per test."""

from __future__ import annotations

import os

import pytest

from lib.config import Settings

pytest_plugins = [
    "tests.support.postgres_service",
    "tests.support.redis_service",
    "tests.support.prometheus_service",
]

# Variables a developer may have exported that would change what a test sees.
_OURS = {name.upper() for name in Settings.model_fields} | {
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "KV_REST_API_URL",
    "KV_REST_API_TOKEN",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper() in _OURS:
            monkeypatch.delenv(name)
