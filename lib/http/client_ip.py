"""The client's IP address, for rate limits and the audit log.

The forwarding headers (``x-real-ip``, ``x-forwarded-for``) are believed only when the peer
that connected is a trusted proxy (``TRUSTED_PROXIES``, ``Settings.proxies``); otherwise the
address is the socket's, whatever the headers say, so a client cannot pick its own rate-limit
key. On Vercel the default trusts any peer: only Vercel's edge reaches the function, and it
sets both headers to the address that connected to it, overwriting what the client sent
(Vercel documents this to prevent IP spoofing). Behind other proxies, list their networks:
``x-forwarded-for`` is then read from the right, skipping trusted hops, so the address is the
last one a trusted proxy saw. Values that are not IP addresses are ignored, so a header cannot
smuggle arbitrary text into keys or logs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cached_property

from starlette.requests import HTTPConnection

UNKNOWN = "unknown"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The peers whose forwarding headers are believed: ``"*"`` (any) or networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(entries)

    @cached_property
    def _any(self) -> bool:
        return "*" in self.entries

    @cached_property
    def _networks(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.entries if e != "*")

    def trusts(self, address: str | None) -> bool:
        if self._any:
            return True
        if address is None:
            return False
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self._networks)


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(conn: HTTPConnection, trusted: TrustedProxies) -> str:
    """The socket peer; behind a trusted proxy, ``x-real-ip``, else the nearest untrusted
    ``x-forwarded-for`` hop (the first one when every hop is trusted)."""
    peer = _ip(conn.client.host if conn.client else None)
    if not trusted.trusts(peer):
        return peer or UNKNOWN
    headers = conn.headers
    real = _ip(headers.get("x-real-ip"))
    if real:
        return real
    hops = [ip for ip in map(_ip, headers.get("x-forwarded-for", "").split(",")) if ip]
    for hop in reversed(hops):
        if not trusted.trusts(hop):
            return hop
    return (hops[0] if hops else peer) or UNKNOWN
