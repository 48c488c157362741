"""The console served by the real app on a free loopback port, and Debian's Chromium driving it.

One app per test session: one-second buckets so that live behaviour shows within seconds, an
engine that processes every bucket (``ADVANCE_BATCH_BUCKETS=1``) and recoveries that always
work, spontaneous failures off so that what a test injects is all that happens, an operator
user. ``page_errors`` collects what must never happen on a page: console errors (CSP
violations are reported there), uncaught exceptions and failed or erroring requests.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response

from lib.clock import Clock
from lib.config import Settings
from lib.http.app import create_app
from tests.integration.http.conftest import ADMIN, PASSWORD, cheap_passwords
from tests.support.app_server import AppServer

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
OPERATOR = "operator.one"
ADMIN_TOKEN = ADMIN["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail("Chromium is missing: `make system-deps` installs Debian's chromium")
    return {**browser_type_launch_args, "executable_path": executable, "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


def console_settings(directory: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "sqlite_path": f"{directory}/openmanager.db",
        "bucket_seconds": 1,
        "advance_batch_buckets": 1,
        "failures_enabled": False,
        "recovery_success_rate": 1.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Console:
    """The served app: its URL and a client for the API behind it."""

    url: str
    server: AppServer
    app: Any

    def api(self, path: str, **kwargs: Any) -> Any:
        response = httpx.get(f"{self.url}/api{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, json: Any = None) -> Any:
        response = httpx.post(f"{self.url}/api{path}", json=json, headers=ADMIN, timeout=10)
        response.raise_for_status()
        return response.json()


@dataclass
class FastClock:
    """Wall time from now on, running ``factor`` times faster: minutes of simulated time (a
    slow ramp, a settling) in seconds of a test."""

    factor: float
    start: float = field(default_factory=time.time)

    def now(self) -> float:
        return self.start + (time.time() - self.start) * self.factor


def serve_console(clock: Clock | None = None, **overrides: Any) -> Iterator[Console]:
    with tempfile.TemporaryDirectory(prefix="om-browser-") as directory:
        settings = console_settings(directory, **overrides)
        app = cheap_passwords(create_app(settings, clock=clock, serve_public=True))
        with AppServer(app) as server:
            console = Console(server.url, server, app)
            response = httpx.post(
                f"{server.url}/api/auth/users",
                json={"username": OPERATOR, "password": PASSWORD, "role": "operator"},
                headers=ADMIN,
            )
            response.raise_for_status()
            yield console


@pytest.fixture(scope="session")
def console() -> Iterator[Console]:
    yield from serve_console()


@dataclass
class PageErrors:
    """What went wrong on a page, by kind."""

    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.console + self.failed


@pytest.fixture
def page_errors(page: Page) -> PageErrors:
    errors = PageErrors()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.console.append(message.text)

    def on_failed(request: Request) -> None:
        failure = request.failure or ""
        # What a navigation or reload cancels (the stream, a fetch under way) ends as aborted:
        # the page left, the request did not fail.
        if "ERR_ABORTED" in failure:
            return
        errors.failed.append(f"{request.url}: {failure}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            errors.failed.append(f"{response.url}: {response.status}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.console.append(f"uncaught: {exc}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return errors


def open_console(page: Page, console: Console, route: str = "#/overview") -> None:
    """Load the console and wait until it shows live data."""
    page.goto(f"{console.url}/{route}")
    page.wait_for_selector("body[data-ready='true']", timeout=15_000)
    page.wait_for_selector("#live[data-state='live']", timeout=15_000)


def sign_in(page: Page) -> None:
    page.click("#login-open")
    page.fill("#login-user", OPERATOR)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("body[data-role='operator']", timeout=10_000)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
