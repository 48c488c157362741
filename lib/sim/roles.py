"""The vocabulary of the fleet: roles, regions, environments, architectures.

Arrays on a ``Fleet`` hold indices into these tuples (``role == 3`` is a database).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

ROLES: Final = ("loadbalancer", "web", "api", "database", "cache", "queue")
LOADBALANCER, WEB, API, DATABASE, CACHE, QUEUE = range(len(ROLES))
ROLE_PREFIXES: Final = ("lb", "web", "api", "db", "cache", "queue")

REGIONS: Final = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-northeast-2")
# Standard time of each region's main city; daylight saving is ignored on purpose so that a
# bucket's local hour never depends on a calendar database.
REGION_UTC_OFFSET_S: Final = MappingProxyType(
    {
        "us-east-1": -5 * 3600,
        "us-west-2": -8 * 3600,
        "eu-west-1": 0,
        "ap-southeast-1": 8 * 3600,
        "ap-northeast-2": 9 * 3600,
    }
)

ENVIRONMENTS: Final = ("production", "staging", "development")
PRODUCTION, STAGING, DEVELOPMENT = range(len(ENVIRONMENTS))

ARCHITECTURES: Final = ("x86_64", "arm64")
X86_64, ARM64 = range(len(ARCHITECTURES))
