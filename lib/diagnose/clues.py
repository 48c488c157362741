"""What log lines say about a failure: keyword rules an operator would grep for."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from lib.diagnose.model import ObservedLog

CLUES: Final = MappingProxyType(
    {
        "cpu_overload": re.compile(
            r"CPU throttling|request queue saturated|load average .* rising"
        ),
        "memory_leak": re.compile(r"Out of memory|OOM|GC overhead|old generation not freed"),
        "disk_full": re.compile(
            r"No space left on device|Directory index full|filesystem .* growing"
        ),
        "network_failure": re.compile(r"link flapping|packet loss|retransmission rate"),
        "application_crash": re.compile(r"code=killed|SEGV|Failed with result 'signal'"),
        "database_timeout": re.compile(r"statement timeout|waiting for ShareLock|duration: \d+ ms"),
        "api_failure": re.compile(r"500 Internal Server Error|Exception at|/checkout error rate"),
        "config_error": re.compile(r"invalid configuration|missing key"),
        "load_balancer_down": re.compile(r"haproxy\.service: Main process exited"),
        "cdn_failure": re.compile(r"CDN cache miss|served by origin"),
        "dns_resolution_failure": re.compile(r"getaddrinfo|EAI_AGAIN|NXDOMAIN|DNS server"),
        "security_breach": re.compile(
            r"Failed password for invalid user|Accepted password .* from|outbound connection to"
        ),
    }
)  # fmt: skip
"""Per type, the pattern of log lines that point to it (on the server they are written on)."""

_UPSTREAM: Final = re.compile(r"upstream ([a-z]+-\d+)")


def clue_types(line: ObservedLog) -> tuple[str, ...]:
    """The failure types a log line points to (usually none or one)."""
    if line.level == "INFO":
        return ()
    return tuple(t for t, pattern in CLUES.items() if pattern.search(line.message))


def upstream_named(line: ObservedLog) -> str | None:
    """The server id a caller's error line blames, if any ("upstream api-02 timed out")."""
    match = _UPSTREAM.search(line.message)
    return None if match is None or line.level == "INFO" else match.group(1)
