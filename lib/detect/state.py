"""The detector's memory: a fixed, small row of float64 per series, easy to keep in Redis.

One row per series, ``40 + 2 × season_slots + hold`` floats (118 with the defaults, 944 bytes):
counts, the robust baseline, spread and trend, the clipping bounds in force, the last two values,
a fast EW mean, the remembered extremes of three channels and how long since the value came near
them, what the stuck channel keeps (the last raw value, how many times in a row it has repeated,
the longest such run remembered, how often the series repeats itself, what run length was
unlikely when this run began), how much of the daily and weekly season is applied, the typical
sampling interval, the offsets per time-of-day slot and per weekday with their pending updates,
and the severities of the detections in the last ``hold`` samples.
``to_bytes``/``from_bytes`` and ``to_dict``/``from_dict`` round-trip it exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError

__all__ = ["N_CHANNELS", "State"]

N_CHANNELS = 3
"""Channels compared with their own extremes: the value, its 3-point median, a fast EW mean."""

# Column layout of a state row.
N_SEEN = 0  # samples seen
T_PREV = 1  # timestamp of the last sample (NaN before the first)
LEVEL = 2  # robust baseline (deseasonalised)
SPREAD = 3  # robust mean absolute deviation
TREND = 4  # EW slope of the baseline, per sample
CLIP_CENTRE = 5  # centre of the clipping bounds in force
CLIP_RADIUS = 6  # radius of the clipping bounds in force (inf while warming up)
PREV1 = 7  # last deseasonalised value
PREV2 = 8  # the one before
FAST = 9  # fast EW mean
ENV_HI = slice(10, 10 + N_CHANNELS)  # remembered highs per channel
ENV_LO = slice(10 + N_CHANNELS, 10 + 2 * N_CHANNELS)  # remembered lows per channel
RAW_PREV = 10 + 2 * N_CHANNELS  # last raw value (NaN before the first)
RUN = RAW_PREV + 1  # times in a row the last raw value repeated the one before it
RUN_RECORD = RAW_PREV + 2  # longest run of repeats remembered (shrinks like the extremes)
P_REPEAT = RAW_PREV + 3  # EW share of samples that repeat the one before
SEASON_WEIGHT = RAW_PREV + 4  # share of the daily offsets applied: 0 no daily shape found
WEEK_WEIGHT = RAW_PREV + 5  # share of the weekday offsets applied: 0 no weekly shape found
INTERVAL = RAW_PREV + 6  # typical seconds between samples (0 before the second sample)
RUN_FLOOR = RAW_PREV + 7  # least unlikely length of the current run as it began (NaN: in warm-up)
IDLE_HI = RAW_PREV + 8  # samples since the value last came near its remembered high
IDLE_LO = RAW_PREV + 9  # samples since the value last came near its remembered low
SEASON0 = RAW_PREV + 10  # offsets in force (daily slots, weekdays), pending updates, the hold
WEEKDAYS = 7

_MAGIC = b"OMD4"
_VERSION = 4  # of ``to_dict``; with ``_MAGIC``, changes whenever the columns do
_HEADER = struct.Struct("<4sIII")


def width(slots: int, hold: int) -> int:
    """Floats per series for ``slots`` daily season slots and a hold of ``hold`` samples."""
    return SEASON0 + 2 * (slots + WEEKDAYS) + hold


def offsets(slots: int) -> slice:
    """Columns of the offsets in force: ``slots`` daily ones, then one per weekday."""
    return slice(SEASON0, SEASON0 + slots + WEEKDAYS)


def pending(slots: int) -> slice:
    """Columns of the offsets' pending updates, in the same order."""
    return slice(SEASON0 + slots + WEEKDAYS, SEASON0 + 2 * (slots + WEEKDAYS))


def recent(slots: int) -> slice:
    """Columns of the severities of the last ``hold`` samples' detections."""
    return slice(SEASON0 + 2 * (slots + WEEKDAYS), None)


@dataclass(frozen=True)
class State:
    """Detector state of ``S`` series: float64[S, width(slots, hold)]. Treat as immutable."""

    data: npt.NDArray[np.float64]
    slots: int
    hold: int

    @classmethod
    def fresh(cls, n_series: int, slots: int, hold: int) -> State:
        data = np.zeros((n_series, width(slots, hold)))
        data[:, T_PREV] = np.nan
        data[:, CLIP_RADIUS] = np.inf
        data[:, RAW_PREV] = np.nan
        data[:, RUN_FLOOR] = np.nan
        return cls(data, slots, hold)

    @property
    def n_series(self) -> int:
        return int(self.data.shape[0])

    def season(self) -> npt.NDArray[np.float64]:
        """Time-of-day offsets in force, float64[S, slots]."""
        return self.data[:, SEASON0 : SEASON0 + self.slots]

    def week(self) -> npt.NDArray[np.float64]:
        """Weekday offsets in force (Monday first), float64[S, 7]."""
        return self.data[:, SEASON0 + self.slots : offsets(self.slots).stop]

    def pending(self) -> npt.NDArray[np.float64]:
        """Offset updates not yet in force, daily then weekday, float64[S, slots + 7]."""
        return self.data[:, pending(self.slots)]

    def recent(self) -> npt.NDArray[np.float64]:
        """Severities of the detections in the last ``hold`` samples (0: none), oldest first."""
        return self.data[:, recent(self.slots)]

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(_MAGIC, self.slots, self.hold, self.n_series)
        return header + self.data.astype("<f8").tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> State:
        if len(blob) < _HEADER.size:
            raise ValidationError("detector state is truncated", field="state")
        magic, slots, hold, n_series = _HEADER.unpack_from(blob)
        body = blob[_HEADER.size :]
        if magic != _MAGIC or len(body) != 8 * n_series * width(slots, hold):
            raise ValidationError("not a detector state, or a damaged one", field="state")
        data = np.frombuffer(body, dtype="<f8").reshape(n_series, width(slots, hold))
        return cls(data.astype(np.float64), slots, hold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "slots": self.slots,
            "hold": self.hold,
            "rows": self.data.tolist(),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> State:
        if doc.get("version") != _VERSION:
            raise ValidationError("not a detector state of this version", field="state")
        try:
            slots, hold = int(doc["slots"]), int(doc["hold"])
            data = np.array(doc["rows"], dtype=np.float64).reshape(-1, width(slots, hold))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("not a detector state", field="state") from exc
        return cls(data, slots, hold)
