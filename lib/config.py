"""Settings from the environment: one typed, frozen object built at the entry point.

Every field is documented in the README's configuration table and in ``.env.example``;
``tests/unit/test_config.py`` keeps the three in step.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from lib.alert_levels import AlertLevel
from lib.errors import ConfigError

VERSION = "0.1.0"

# 2026-01-01T00:00:00Z: bucket 0 of every default deployment.
DEFAULT_EPOCH_S = 1_767_225_600


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run the product with no environment at all."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    # Simulation
    seed: int = Field(20_251_123, ge=0, lt=2**63, description="Seed of the simulated fleet.")
    fleet_size: int = Field(30, ge=1, le=100_000, description="Number of simulated servers.")
    bucket_seconds: int = Field(3, ge=1, le=3600, description="Length of one time bucket.")
    epoch_s: int = Field(DEFAULT_EPOCH_S, ge=0, description="Unix time of bucket 0 (seconds, UTC).")
    failures_enabled: bool = Field(True, description="Let incidents appear by themselves.")
    failure_rate_per_hour: float = Field(
        2.0, ge=0.0, le=120.0, description="Spontaneous incidents per hour across the fleet."
    )

    # Detection, alerts, recovery
    adaptive_thresholds: bool = Field(
        True, description="Learn thresholds per server and metric; off means static 80/90."
    )
    auto_recovery: bool = Field(True, description="Attempt automatic recovery of incidents.")
    recovery_success_rate: float = Field(
        0.89, ge=0.0, le=1.0, description="Probability that an automatic recovery succeeds."
    )
    notify_min_level: AlertLevel = Field(
        "warning", description="Lowest alert level that is notified (info|warning|error|critical)."
    )
    retention_days: int = Field(30, ge=1, le=3650, description="Days of history kept in the DB.")
    advance_batch_buckets: int = Field(
        2,
        ge=1,
        le=1200,
        description="Buckets that must wait before a read advances the engine: "
        "lower is fresher alerts, higher is fewer KV commands.",
    )

    # Stores
    upstash_redis_rest_url: str | None = Field(
        None,
        validation_alias=AliasChoices("UPSTASH_REDIS_REST_URL", "KV_REST_API_URL"),
        description="Upstash Redis REST URL (or Vercel's KV_REST_API_URL); unset: in-process KV.",
    )
    upstash_redis_rest_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_TOKEN"),
        description="Upstash Redis REST token (or Vercel's KV_REST_API_TOKEN).",
    )
    kv_timeout_s: float = Field(2.0, gt=0, le=30, description="Timeout of one KV round trip.")
    supabase_url: str | None = Field(
        None, description="Supabase project URL; unset: SQLite file under .data/."
    )
    supabase_service_role_key: SecretStr | None = Field(
        None, description="Supabase service-role key (server side only, bypasses RLS)."
    )
    db_timeout_s: float = Field(3.0, gt=0, le=60, description="Timeout of one DB request.")
    sqlite_path: str = Field(
        ".data/openmanager.db", description="SQLite file used when Supabase is not configured."
    )

    # HTTP and security
    public_read: bool = Field(True, description="Reads need no token (demo deployments).")
    admin_token: SecretStr | None = Field(
        None, description="Bootstrap admin API token (Authorization: Bearer)."
    )
    cron_secret: SecretStr | None = Field(
        None, description="Secret Vercel Cron sends to /api/tick (Authorization: Bearer)."
    )
    rate_limit_api_per_minute: int = Field(
        600, ge=1, le=1_000_000, description="Requests per minute per client, every route."
    )
    rate_limit_login_per_minute: int = Field(
        10, ge=1, le=10_000, description="Login attempts per minute per IP address."
    )
    rate_limit_ai_per_minute: int = Field(
        20, ge=1, le=10_000, description="AI assistant questions per minute per client."
    )
    rate_limit_auth_failures_per_minute: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Failed bearer authentications per minute per IP address, per instance.",
    )
    stream_max_per_client: int = Field(
        4, ge=1, le=1000, description="Open /api/stream connections per client, per instance."
    )
    trusted_proxies: list[str] | None = Field(
        None,
        description="Peers whose X-Real-IP / X-Forwarded-For are believed (JSON list of CIDRs, "
        '"*" for any); unset: ["*"] on Vercel, else none (the socket address).',
    )
    vercel: bool = Field(
        False, description="Set by Vercel on its platform (1); decides TRUSTED_PROXIES' default."
    )
    # AI assistant
    ai_base_url: str | None = Field(
        None, description="OpenAI-compatible API base URL (…/v1); unset: local answers only."
    )
    ai_api_key: SecretStr | None = Field(None, description="API key sent to AI_BASE_URL.")
    ai_model: str = Field("gpt-4o-mini", description="Chat model named in each request.")
    ai_budget_s: float = Field(
        8.0, gt=0.5, le=60, description="Hard budget of one answer, model included (seconds)."
    )
    ai_first_token_timeout_s: float = Field(
        3.0, gt=0, le=60, description="Wait this long for the model's first token, then fall back."
    )
    ai_stall_timeout_s: float = Field(
        2.0, gt=0, le=60, description="Longest pause mid-stream before falling back."
    )
    ai_conversation_ttl_s: int = Field(
        1800, ge=60, le=86_400, description="How long a conversation's context is kept."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list); empty: closed."
    )

    # Web Push (RFC 8292 VAPID); without both keys push is disabled and the rest works.
    vapid_private_key: SecretStr | None = Field(
        None, description="VAPID private key, base64url (`python -m lib.push keys` makes a pair)."
    )
    vapid_public_key: str | None = Field(
        None, description="VAPID public key, base64url uncompressed P-256 point (65 bytes)."
    )
    vapid_subject: str = Field(
        "mailto:ops@openmanager.invalid",
        pattern=r"^(mailto:|https://)\S+$",
        description="VAPID contact (mailto: or https: URL) push services may use to reach you.",
    )
    push_timeout_s: float = Field(
        4.0, gt=0, le=30, description="Timeout of one request to a push service."
    )
    push_budget_s: float = Field(
        8.0, gt=0, le=50, description="Time one request may spend sending pushes after the engine."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str] | None) -> list[str] | None:
        for entry in value or ():
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @property
    def proxies(self) -> tuple[str, ...]:
        """TRUSTED_PROXIES in force: as set, else any peer on Vercel (its edge sets the
        headers and overwrites the client's), else none."""
        if self.trusted_proxies is not None:
            return tuple(self.trusted_proxies)
        return ("*",) if self.vercel else ()

    @model_validator(mode="after")
    def _pairs_are_complete(self) -> Settings:
        if (self.upstash_redis_rest_url is None) != (self.upstash_redis_rest_token is None):
            raise ValueError(
                "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together"
            )
        if (self.supabase_url is None) != (self.supabase_service_role_key is None):
            raise ValueError("SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set together")
        if (self.vapid_private_key is None) != (self.vapid_public_key is None):
            raise ValueError("VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY must be set together")
        return self

    @property
    def kv_backend(self) -> Literal["upstash", "memory"]:
        return "upstash" if self.upstash_redis_rest_url else "memory"

    @property
    def push_enabled(self) -> bool:
        return self.vapid_private_key is not None

    @property
    def db_backend(self) -> Literal["supabase", "sqlite"]:
        return "supabase" if self.supabase_url else "sqlite"


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in ("token", "key", "secret", "password"))


def load_settings(**overrides: object) -> Settings:
    """Build ``Settings`` from the environment, turning validation errors into ``ConfigError``.

    The message names each offending variable and the value it had.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if not loc:
                problems.append(err["msg"].removeprefix("Value error, "))
            elif _is_secret(loc):
                problems.append(f"{loc.upper()}: {err['msg']}")
            else:
                problems.append(f"{loc.upper()}: {err['msg']} (got {err.get('input')!r})")
        first = exc.errors()[0]["loc"]
        raise ConfigError(
            "invalid configuration: " + "; ".join(problems),
            variable=str(first[0]).upper() if first else None,
        ) from exc
