"""One push to one subscription over HTTP, as ``pywebpush`` sends it, with what came back.

Every request has a timeout (``pywebpush`` has none unless given one) no longer than what is
left of the caller's deadline, and a fresh VAPID claims dict (``pywebpush.webpush`` writes
``aud`` and ``exp`` into the dict it is given). The push service's answer decides what happens:

- 201 (or 200/202): sent;
- 404/410: the subscription is gone (the caller deletes it);
- 429: try again after ``Retry-After`` — now, if that fits the deadline, else later;
- anything else (5xx, a timeout, a refused connection): retried with exponential backoff while
  the deadline allows, then reported failed; 400/403/413 are not retried (the same request
  would fail again).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from lib.clock import monotonic, pause

if TYPE_CHECKING:
    import requests

    from lib.push.keys import VapidKeys
    from lib.store.db import PushSubscriptionRecord

Status = Literal["sent", "gone", "retry_later", "failed"]

ATTEMPTS = 3
BACKOFF_S = 0.2
CLAIMS_TTL_S = 12 * 3600  # RFC 8292 §2: exp at most 24 h ahead
_PERMANENT = frozenset({400, 401, 403, 413})


@dataclass(frozen=True)
class Outcome:
    status: Status
    code: int | None = None
    retry_after_s: float | None = None
    error: str | None = None
    attempts: int = 1


def retry_after_s(value: str | None, now_s: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - now_s)
    except (TypeError, ValueError):
        return None


class PushSender:
    """Sends pushes signed with ``keys``; thread-safe (one HTTP session per thread)."""

    def __init__(self, keys: VapidKeys, timeout_s: float) -> None:
        from py_vapid import Vapid02

        self.keys = keys
        self.timeout_s = timeout_s
        self._vapid = Vapid02(keys.signing_key())
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            self._local.session = session
        return session

    def claims(self, endpoint: str) -> dict[str, str | int]:
        """A new claims dict for one request: ``aud`` is the push service's origin."""
        url = urlsplit(endpoint)
        return {
            "sub": self.keys.subject,
            "aud": f"{url.scheme}://{url.netloc}",
            "exp": int(time.time()) + CLAIMS_TTL_S,
        }

    def send_once(
        self,
        subscription: PushSubscriptionRecord,
        data: bytes,
        ttl: int,
        headers: dict[str, str],
        timeout_s: float,
    ) -> Outcome:
        from pywebpush import WebPushException, webpush
        from requests import RequestException

        info: dict[str, Any] = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        try:
            response: Any = webpush(
                info,
                data=data,  # type: ignore[arg-type]
                vapid_private_key=self._vapid,
                vapid_claims=self.claims(subscription.endpoint),
                ttl=ttl,
                headers=dict(headers),
                timeout=timeout_s,
                requests_session=self._session(),
            )
        except WebPushException as exc:
            code = exc.status_code
            if code in (404, 410):
                return Outcome("gone", code)
            if code == 429:
                return Outcome("retry_later", code, retry_after_s(exc.retry_after, time.time()))
            return Outcome("failed", code, error=f"push service answered {code}")
        except RequestException as exc:
            return Outcome("failed", error=type(exc).__name__)
        return Outcome("sent", int(response.status_code))

    def send(
        self,
        subscription: PushSubscriptionRecord,
        data: bytes,
        ttl: int,
        headers: dict[str, str],
        deadline: float,
    ) -> Outcome:
        """Send, retrying as the module says, never past ``deadline`` (``monotonic()``)."""
        outcome = Outcome("failed", error="no time left")
        for attempt in range(1, ATTEMPTS + 1):
            left = deadline - monotonic()
            if left <= 0.01:
                break
            timeout = min(self.timeout_s, left)
            outcome = self.send_once(subscription, data, ttl, headers, timeout)
            outcome = Outcome(
                outcome.status, outcome.code, outcome.retry_after_s, outcome.error, attempt
            )
            if outcome.status in ("sent", "gone") or outcome.code in _PERMANENT:
                return outcome
            wait = BACKOFF_S * 2 ** (attempt - 1)
            if outcome.status == "retry_later":
                wait = outcome.retry_after_s if outcome.retry_after_s is not None else wait
            if attempt == ATTEMPTS or monotonic() + wait + 0.05 >= deadline:
                return outcome
            pause(wait)
        return outcome
