"""Alert levels and the rules that set them.

Levels, ordered: ``info < warning < error < critical`` (``Level``; 0 in arrays means "no
alert"). Every bucket the detector gives each (server, metric) series a score in [0, 1] and a
level (0 none, 1 warning, 2 critical). The alert rules read them as follows.

Entry and exit (``AlertParams`` in ``lib.alerts.lifecycle``):

- a bucket is *hot* when the detector level is at least warning, or the score is at least
  ``enter_score``;
- a bucket is *cool* when the detector level is none, the score is below the lower
  ``exit_score`` and the server is not offline. Between the two, nothing changes: that gap is
  the hysteresis that keeps a series hovering at the threshold from flapping.

The level observed in one bucket (``observed_levels``):

1. ``warning`` when the bucket is hot (detector warning, or score over ``enter_score``);
2. ``error`` when the detector says critical;
3. ``critical`` when the detector has said critical for ``critical_after_buckets``
   consecutive buckets (critical sustained), or the server is offline, or the automatic
   recovery of the incident behind the series failed.

An alert's level is the highest level observed since its episode began (pending included):
it escalates while firing and never steps down while open. Lowering it would tell an operator
who was paged for "critical" that things are better before they are resolved; the decrease is
visible in the scores, and the alert resolves through the hysteresis instead.

``info`` never comes from a series: it is the level of informational events — an alert or an
incident resolved, a recovery started or succeeded (``EVENT_LEVELS``). A failed automatic
recovery is ``critical``. Notifications below the operator's ``notify_min_level`` (a
``Settings`` field) are dropped by ``notifiable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from lib.alert_levels import ALERT_LEVELS
from lib.errors import ValidationError

NO_LEVEL = 0


class Level(IntEnum):
    """Alert level, ordered by severity."""

    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """Lower-case name, as stored and sent: ``info``, ``warning``, ``error``, ``critical``."""
        return ALERT_LEVELS[self - 1]

    @property
    def label_ko(self) -> str:
        return _KOREAN[self]


_KOREAN = {Level.INFO: "정보", Level.WARNING: "경고", Level.ERROR: "오류", Level.CRITICAL: "심각"}

IncidentEvent = Literal["recovery_started", "recovered", "recovery_failed", "resolved"]

EVENT_LEVELS: dict[str, Level] = {
    "recovery_started": Level.INFO,
    "recovered": Level.INFO,
    "resolved": Level.INFO,
    "recovery_failed": Level.CRITICAL,
}

# Detector levels, as given by lib.detect.
DETECTOR_WARNING = 1
DETECTOR_CRITICAL = 2


class HasLevel(Protocol):
    @property
    def level(self) -> Level: ...


def parse_level(name: str | Level) -> Level:
    """``Level`` from its name (``"warning"``, any case) or itself."""
    if isinstance(name, Level):
        return name
    try:
        return Level[name.upper()]
    except KeyError:
        raise ValidationError(
            f"unknown alert level {name!r}; expected one of {', '.join(ALERT_LEVELS)}",
            field="level",
        ) from None


def event_level(event: IncidentEvent) -> Level:
    """Level of an incident event that is not a series' alert (see ``EVENT_LEVELS``)."""
    return EVENT_LEVELS[event]


def notifiable[T: HasLevel](items: Iterable[T], min_level: str | Level) -> list[T]:
    """The items whose ``level`` is at least ``min_level`` (``Settings.notify_min_level``)."""
    floor = parse_level(min_level)
    return [item for item in items if item.level >= floor]


def observed_levels(
    hot: npt.NDArray[np.bool_],
    detector_levels: npt.NDArray[np.integer],
    critical_run: npt.NDArray[np.integer],
    offline: npt.NDArray[np.bool_],
    recovery_failed: npt.NDArray[np.bool_],
    critical_after_buckets: int,
) -> npt.NDArray[np.int8]:
    """Level observed in each bucket by the numbered rules above; any shape, elementwise.

    Returns 0 where nothing is observed. Offline and failed-recovery flags yield ``critical``
    even on a bucket that is not hot; they matter only for a series already pending or open.
    """
    level = np.where(hot, Level.WARNING, NO_LEVEL)
    level = np.where(detector_levels >= DETECTOR_CRITICAL, Level.ERROR, level)
    sustained = critical_run >= critical_after_buckets
    level = np.where(sustained | offline | recovery_failed, Level.CRITICAL, level)
    return level.astype(np.int8)
