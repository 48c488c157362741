"""Pick and open the adapters the settings select; heavy clients are imported only here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lib.config import Settings

if TYPE_CHECKING:
    from lib.clock import Clock
    from lib.store.db import Repository
    from lib.store.kv import Kv
    from lib.store.limiters import Limit, Limiter, Limiters


def open_kv(settings: Settings) -> Kv:
    """Upstash when its URL and token are set, else the in-process KV."""
    if settings.upstash_redis_rest_url and settings.upstash_redis_rest_token:
        from lib.store.upstash_kv import UpstashKv

        return UpstashKv(
            settings.upstash_redis_rest_url,
            settings.upstash_redis_rest_token.get_secret_value(),
            timeout_s=settings.kv_timeout_s,
        )
    from lib.store.memory_kv import MemoryKv

    return MemoryKv()


def limits_from(settings: Settings) -> dict[str, Limit]:
    """``LIMITS`` with the RATE_LIMIT_* settings applied."""
    from lib.store.limiters import LIMITS

    per_minute = {
        "api": settings.rate_limit_api_per_minute,
        "login": settings.rate_limit_login_per_minute,
        "ai": settings.rate_limit_ai_per_minute,
    }
    return {name: replace(lim, max_requests=per_minute[name]) for name, lim in LIMITS.items()}


def open_limiters(kv: Kv, clock: Clock, limits: dict[str, Limit]) -> Limiters:
    """The named limiters on ``kv``: upstash-ratelimit's script on Upstash, its Python mirror
    on any other KV, and per-instance mirrors on an in-process KV for anonymous reads.

    upstash-ratelimit reads wall time itself; ``clock`` drives only the mirrors.
    """
    from lib.store.limiters import KEY_PREFIX, KvSlidingWindow, Limiters, UpstashSlidingWindow
    from lib.store.memory_kv import MemoryKv

    def shared(prefix: str, limit: Limit) -> Limiter:
        if kv.backend == "upstash":
            return UpstashSlidingWindow(kv, prefix, limit)
        return KvSlidingWindow(kv, clock, prefix, limit)

    local = MemoryKv()
    prefixes = {name: f"{KEY_PREFIX}:{name}" for name in limits}
    return Limiters(
        clock,
        limits,
        shared={name: shared(prefixes[name], lim) for name, lim in limits.items()},
        local={
            name: KvSlidingWindow(local, clock, prefixes[name], lim) for name, lim in limits.items()
        },
    )


def open_repository(settings: Settings) -> Repository:
    """Supabase when its URL and key are set, else the SQLite file."""
    if settings.supabase_url and settings.supabase_service_role_key:
        from lib.store.supabase_repository import SupabaseRepository

        return SupabaseRepository(
            settings.supabase_url,
            settings.supabase_service_role_key.get_secret_value(),
            timeout_s=settings.db_timeout_s,
        )
    from lib.store.sqlite_repository import SqliteRepository

    return SqliteRepository(settings.sqlite_path, timeout_s=settings.db_timeout_s)
