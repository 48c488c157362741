"""Schemathesis against ``/api/openapi.json``: whatever fits (or nearly fits) the schema, the API
answers without a 5xx and with a response that matches what the schema declares.

Two passes over every operation: as the admin (mutations run for real) and anonymously (the
protected routes answer 401 in the declared shape). The app is the embedded default on a fixed
clock, with rate limits out of the way; ``/api/stream`` is left out, as a stream only ends
when its time is up (``tests/integration/http/test_stream.py`` covers it).

Bounded: ``MAX_EXAMPLES`` generated cases per operation and pass, plus the schema's examples.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from lib.clock import FixedClock
from lib.config import Settings
from lib.http.app import create_app
from lib.runtime_settings import RUNTIME_FIELD, RUNTIME_KEY
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import ADMIN, NOW, cheap_passwords, make_settings, state_of

MAX_EXAMPLES = 10

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20251123,
        "phases": {"coverage": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES},
        "checks": {
            # Reads are public (PUBLIC_READ) while their schema names the optional credentials.
            "ignored_auth": {"enabled": False},
            # Some schema-valid input breaks a rule the schema cannot say (``to`` before
            # ``from``, a server id this fleet does not have): it gets a documented 4xx naming
            # the field. The bar is no 5xx and responses that match their schema.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)

# The schema comes from an app that is never called (nothing opens a store for it); the cases
# run against ``fuzz_app``, the app under test, built with fixtures.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None), kv=MemoryKv()).openapi(), config=CONFIG
).exclude(path="/api/stream")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # A fixed clock never leaves a rate-limit window: raise the limits, keep the checks.
    settings = make_settings(
        tmp_path_factory.mktemp("fuzz"),
        rate_limit_api_per_minute=1_000_000,
        rate_limit_login_per_minute=10_000,
        rate_limit_ai_per_minute=10_000,
    )
    return cheap_passwords(create_app(settings, clock=FixedClock(NOW), kv=MemoryKv()))


def call(case: Case, app: FastAPI, headers: dict[str, str] | None = None) -> None:
    # Every case starts from the configured settings: a fuzzed PUT /api/settings may ask
    # for a thousand failures an hour, which is valid but makes every later case slow.
    state_of(app).kv.hdel(RUNTIME_KEY, RUNTIME_FIELD)
    state_of(app).engine.forget()
    case.call_and_validate(app=app, headers=headers)


@schema.parametrize()
def test_as_admin(case: Case, fuzz_app: FastAPI) -> None:
    call(case, fuzz_app, ADMIN)


@schema.parametrize()
def test_anonymously(case: Case, fuzz_app: FastAPI) -> None:
    call(case, fuzz_app)
