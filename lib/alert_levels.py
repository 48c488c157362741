"""The alert-level vocabulary, defined once: the names as stored and sent, in severity order.

Numeric codes (``lib.alerts.Level``, the engine's level arrays) are a name's position plus
one; 0 in those arrays means "no alert". No imports beyond ``typing``: settings, schemas and
stores all use it, and none of them may pull numpy into a cold start.
"""

from __future__ import annotations

from typing import Literal, get_args

AlertLevel = Literal["info", "warning", "error", "critical"]
ALERT_LEVELS: tuple[AlertLevel, ...] = get_args(AlertLevel)


def level_name(code: int) -> AlertLevel:
    """The name of level ``code`` (1 info … 4 critical)."""
    if not 1 <= code <= len(ALERT_LEVELS):
        raise ValueError(f"no alert level {code}; codes run 1..{len(ALERT_LEVELS)}")
    return ALERT_LEVELS[code - 1]
