"""The one error tree of OpenManager.

::

    OpenManagerError
    ├── ConfigError            a setting is missing or malformed (names the variable)
    ├── ValidationError        input does not fit (names the field)
    ├── NotFound               a server, incident, alert, token… does not exist
    ├── Conflict               the request contradicts the current state
    ├── AuthError              no or bad credentials (401)
    │   └── Forbidden          authenticated, but the role is not enough (403)
    ├── RateLimited            too many requests (429, carries retry_after_s)
    ├── StoreError             a KV or database call failed
    │   ├── StoreUnavailable   the store refused or dropped the connection, or answered 5xx
    │   └── StoreTimeout       the store did not answer within the configured timeout
    └── UpstreamError          a language model or push service failed

Adapters translate vendor exceptions into these at their boundary (``raise … from exc``);
``lib/http/errors.py`` maps each class to one HTTP status and ``code``.
"""

from __future__ import annotations

from typing import Any


class OpenManagerError(Exception):
    """Base of every error the application raises on purpose."""

    code = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(OpenManagerError):
    """A setting is missing or malformed; ``details['variable']`` names it."""

    code = "config_error"


class ValidationError(OpenManagerError):
    """Input does not fit; ``details['field']`` names the offending field."""

    code = "validation_error"


class NotFound(OpenManagerError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(OpenManagerError):
    """The request contradicts the current state (e.g. resolving a resolved incident)."""

    code = "conflict"


class AuthError(OpenManagerError):
    """No credentials, or credentials that do not check out."""

    code = "unauthorized"


class Forbidden(AuthError):
    """Authenticated, but the role does not allow this."""

    code = "forbidden"


class RateLimited(OpenManagerError):
    """Too many requests; retry after ``retry_after_s`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int, **details: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


class StoreError(OpenManagerError):
    """A KV or database call failed; ``details['backend']`` names the store."""

    code = "store_error"


class StoreUnavailable(StoreError):
    """The store refused or dropped the connection, or answered with a server error."""

    code = "store_unavailable"


class StoreTimeout(StoreError):
    """The store did not answer within the configured timeout."""

    code = "store_timeout"


class UpstreamError(OpenManagerError):
    """A language model or a push service failed."""

    code = "upstream_error"
