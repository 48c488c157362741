"""Schemathesis against ``/api/openapi.json``: whatever fits (or nearly fits) the schema, the API
answers without a 5xx and with a response that matches what the schema declares.

Two passes over every operation: as the admin (mutations run for real) and anonymously (the
protected routes answer 401 in the declared shape). The app is the embedded default on a fixed
clock, with rate limits out of the way; ``/api/stream`` is left out, as a stream only ends
when its time is up (``tests/integration/http/test_stream.py`` covers it).

Two phases: the coverage phase (boundary and out-of-range values of every parameter: the
largest ``step``, a cursor past the dates Python can name, issue 15) and ``MAX_EXAMPLES``
generated cases per operation and pass, plus the schema's examples. Each call is also held to a
budget: at most ``MAX_RESPONSE_S`` of CPU and ``MAX_GROWTH_MB`` of peak memory (issue 15 row 1 took
7.7 s and 1.6 GB for one request). Bounded: about a minute on a 2-core machine.
"""

from __future__ import annotations

import resource
import time

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from lib.clock import FixedClock
from lib.config import Settings
from lib.http.app import create_app
from lib.runtime_settings import RUNTIME_FIELD, RUNTIME_KEY
from lib.store.memory_kv import MemoryKv
from tests.integration.http.conftest import ADMIN, NOW, cheap_passwords, make_settings, state_of

MAX_EXAMPLES = 15
MAX_RESPONSE_S = 1.0
MAX_GROWTH_MB = 50

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20251123,
        "phases": {"coverage": {"enabled": True}},
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
    app = cheap_passwords(create_app(settings, clock=FixedClock(NOW), kv=MemoryKv()))
    # A cold start (the middleware stack, the first world) is not what the budget is for.
    assert TestClient(app).get("/api/fleet").status_code == 200
    return app


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def call(case: Case, app: FastAPI, headers: dict[str, str] | None = None) -> None:
    # Every case starts from the configured settings: a fuzzed PUT /api/settings may ask
    # for a thousand failures an hour, which is valid but makes every later case slow.
    state_of(app).kv.hdel(RUNTIME_KEY, RUNTIME_FIELD)
    state_of(app).engine.forget()
    # CPU seconds of the whole process (the app runs in another thread), not wall time: what a
    # request costs, which a machine busy with other work does not change.
    before, started = peak_rss_mb(), time.process_time()
    response = case.call(app=app, headers=headers)
    took, grown = time.process_time() - started, peak_rss_mb() - before
    case.validate_response(response, headers=headers)
    assert took <= MAX_RESPONSE_S, f"{case.method} {case.formatted_path}: {took:.2f} CPU s"
    assert grown <= MAX_GROWTH_MB, f"{case.method} {case.formatted_path}: +{grown:.0f} MB"


@schema.parametrize()
def test_as_admin(case: Case, fuzz_app: FastAPI) -> None:
    call(case, fuzz_app, ADMIN)


@schema.parametrize()
def test_anonymously(case: Case, fuzz_app: FastAPI) -> None:
    call(case, fuzz_app)
