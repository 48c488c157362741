"""The client's IP address, for rate limits and the audit log.

Trust assumption: on Vercel the edge network sets ``x-real-ip`` and ``x-forwarded-for`` to the
address that connected to it and overwrites whatever the client sent (Vercel documents this to
prevent IP spoofing), so the first hop is the client. Anywhere else the app must sit behind a
proxy that does the same; exposed directly (e.g. ``make dev`` on a public interface), a client
could pick its own rate-limit key by sending these headers. Values that are not IP addresses
are ignored, so a header cannot smuggle arbitrary text into keys or logs.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

UNKNOWN = "unknown"


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    candidate = value.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_ip(conn: HTTPConnection) -> str:
    """``x-real-ip``, else the first ``x-forwarded-for`` hop, else the socket peer."""
    headers = conn.headers
    return (
        _ip(headers.get("x-real-ip"))
        or _ip(headers.get("x-forwarded-for"))
        or _ip(conn.client.host if conn.client else None)
        or UNKNOWN
    )
