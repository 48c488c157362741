"""The client address: the socket peer, or the forwarding headers of a trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from lib.config import Settings
from lib.http.client_ip import UNKNOWN, TrustedProxies, client_ip

ANY = TrustedProxies(["*"])
NONE = TrustedProxies([])
INTERNAL = TrustedProxies(["10.0.0.0/8", "fd00::/8"])


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
def test_behind_vercel_the_headers_name_the_client(
    headers: dict[str, str], peer: str | None, expected: str
) -> None:
    assert client_ip(_request(headers, peer), ANY) == expected


@pytest.mark.parametrize(
    "headers",
    [{"x-forwarded-for": "203.0.113.9"}, {"x-real-ip": "198.51.100.4"}, {}],
)
def test_without_a_trusted_proxy_the_headers_are_ignored(headers: dict[str, str]) -> None:
    # Issue 15 row 6: these headers chose the rate-limit key of whoever sent them.
    assert client_ip(_request(headers, "192.0.2.50"), NONE) == "192.0.2.50"
    assert client_ip(_request(headers, "192.0.2.50"), INTERNAL) == "192.0.2.50"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        # A client's own entry at the left cannot hide it: the proxy appended its address.
        ("6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        ("10.0.0.8, 10.0.0.7", "10.0.0.8"),
        ("junk, 203.0.113.9", "203.0.113.9"),
    ],
)
def test_behind_listed_proxies_the_nearest_untrusted_hop_is_the_client(
    forwarded: str, expected: str
) -> None:
    request = _request({"x-forwarded-for": forwarded}, "10.9.9.9")
    assert client_ip(request, INTERNAL) == expected


def test_trusted_proxies_default_to_any_on_vercel_only() -> None:
    assert Settings(_env_file=None).proxies == ()  # type: ignore[call-arg]
    assert Settings(_env_file=None, vercel=True).proxies == ("*",)  # type: ignore[call-arg]
    chosen = Settings(_env_file=None, vercel=True, trusted_proxies=["10.0.0.0/8"])  # type: ignore[call-arg]
    assert chosen.proxies == ("10.0.0.0/8",)


def test_vercel_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERCEL", "1")
    assert Settings(_env_file=None).proxies == ("*",)  # type: ignore[call-arg]


def test_a_proxy_that_is_not_a_network_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        Settings(_env_file=None, trusted_proxies=["not-a-network"])  # type: ignore[call-arg]
