"""What every request can reach: settings, clock and stores, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from fastapi import Request

from lib.clock import Buckets, Clock
from lib.config import Settings

if TYPE_CHECKING:
    from lib.engine import Engine
    from lib.http.auth_failures import FailedAuth
    from lib.http.client_ip import TrustedProxies
    from lib.http.metrics import AppMetrics
    from lib.http.sessions import SessionStore
    from lib.http.stream_slots import StreamSlots
    from lib.http.tokens import TokenStore
    from lib.http.users import UserStore
    from lib.push.dispatch import PushDispatch
    from lib.store.db import Repository
    from lib.store.kv import Kv
    from lib.store.limiters import Limiters
    from lib.store.outbox import Outbox


@dataclass
class AppState:
    """Long-lived objects of one app instance (one warm serverless function).

    Each part is built, and its module imported, on first use: a cold start pays only for
    what its first request reaches.
    """

    settings: Settings
    clock: Clock
    kv: Kv
    injected_repo: Repository | None = field(default=None, repr=False)

    @cached_property
    def buckets(self) -> Buckets:
        return Buckets(self.settings.epoch_s, self.settings.bucket_seconds)

    @cached_property
    def repo(self) -> Repository:
        """Opened on first use: the Supabase client costs ~180 ms to import, reads skip it."""
        from lib.store.factory import open_repository

        return self.injected_repo or open_repository(self.settings)

    @cached_property
    def outbox(self) -> Outbox:
        from lib.store.outbox import Outbox

        return Outbox(self.kv)

    @cached_property
    def engine(self) -> Engine:
        from lib.engine import Engine

        return Engine(
            self.settings,
            self.kv,
            lambda: self.repo,
            self.clock,
            outbox=self.outbox,
            notify=self.push.notify,
        )

    @cached_property
    def push(self) -> PushDispatch:
        """Web Push: the engine's notifier records, ``deliver`` sends after the advance."""
        from lib.push.dispatch import PushDispatch

        return PushDispatch(
            self.settings,
            self.kv,
            lambda: self.repo,
            self.clock,
            lambda: self.engine.fleet,
            self.outbox,
        )

    # -- security and platform: auth stores, rate limiters, metrics ----------------------

    @cached_property
    def tokens(self) -> TokenStore:
        from lib.http.tokens import TokenStore

        return TokenStore(self.kv, self.clock)

    @cached_property
    def users(self) -> UserStore:
        from lib.http.users import UserStore

        return UserStore(self.kv, self.clock)

    @cached_property
    def sessions(self) -> SessionStore:
        from lib.http.sessions import SessionStore

        return SessionStore(self.kv, self.clock)

    @cached_property
    def limiters(self) -> Limiters:
        from lib.store.factory import limits_from, open_limiters

        return open_limiters(self.kv, self.clock, limits_from(self.settings))

    @cached_property
    def failed_auth(self) -> FailedAuth:
        from lib.http.auth_failures import FailedAuth

        return FailedAuth(self.clock, self.settings.rate_limit_auth_failures_per_minute)

    @cached_property
    def stream_slots(self) -> StreamSlots:
        from lib.http.stream_slots import StreamSlots

        return StreamSlots(self.settings.stream_max_per_client)

    @cached_property
    def trusted_proxies(self) -> TrustedProxies:
        from lib.http.client_ip import TrustedProxies

        return TrustedProxies(self.settings.proxies)

    @cached_property
    def metrics(self) -> AppMetrics:
        from lib.http.metrics import AppMetrics

        return AppMetrics(self)

    def opened_repo(self) -> Repository | None:
        """The repository if a request has opened it; metrics must not open it just to read 0."""
        return self.__dict__.get("repo")

    def close(self) -> None:
        """Release the repository; it reopens on next use (an app may see several lifespans)."""
        repo = self.__dict__.pop("repo", None)
        if repo is not None and self.injected_repo is None:
            repo.close()


def get_state(request: Request) -> AppState:
    return request.app.state.om  # type: ignore[no-any-return]
