"""The client address: forwarding headers first (set by Vercel), then the peer."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from lib.http.client_ip import UNKNOWN, client_ip


def _request(headers: dict[str, str], peer: str | None = "10.1.2.3") -> Request:
    scope = {
        "type": "http",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (peer, 5000) if peer else None,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("headers", "peer", "expected"),
    [
        ({}, "10.1.2.3", "10.1.2.3"),
        ({}, None, UNKNOWN),
        ({}, "testclient", UNKNOWN),
        ({"x-forwarded-for": "203.0.113.9"}, "10.1.2.3", "203.0.113.9"),
        ({"x-forwarded-for": " 203.0.113.9 , 10.0.0.1"}, "10.1.2.3", "203.0.113.9"),
        ({"x-real-ip": "198.51.100.4", "x-forwarded-for": "203.0.113.9"}, None, "198.51.100.4"),
        ({"x-forwarded-for": "2001:DB8::1"}, None, "2001:db8::1"),
        ({"x-forwarded-for": "evil\nkey"}, "10.1.2.3", "10.1.2.3"),
        ({"x-real-ip": "not-an-ip", "x-forwarded-for": "203.0.113.9"}, None, "203.0.113.9"),
    ],
)
def test_client_ip(headers: dict[str, str], peer: str | None, expected: str) -> None:
    assert client_ip(_request(headers, peer)) == expected
