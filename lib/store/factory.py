"""Pick and open the adapters the settings select; heavy clients are imported only here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lib.config import Settings

if TYPE_CHECKING:
    from lib.store.db import Repository
    from lib.store.kv import Kv


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
