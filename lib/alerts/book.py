"""The alert state of every series, as a few numpy arrays that round-trip through Redis.

A *series* is one (server, metric) pair. The engine flattens its ``float[server, metric]``
scores in C order, so ``series = server * n_metrics + metric`` (``series_of`` and
``server_metric_of`` convert). Bucket fields are ``-1`` when they do not apply.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from lib.alerts.levels import Level
from lib.errors import ValidationError


class AlertState(IntEnum):
    """Lifecycle state of a series' alert.

    ``RESOLVED`` stays in the book until the series runs hot again, so the book still says what
    the last alert was; ``INACTIVE`` is a series with no alert yet or whose pending one lapsed.
    """

    INACTIVE = 0
    PENDING = 1
    FIRING = 2
    ACKNOWLEDGED = 3
    RESOLVED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


OPEN_STATES = (AlertState.FIRING, AlertState.ACKNOWLEDGED)

# (field, dtype) in serialisation order; the dtypes, little-endian, are the stored format.
_ARRAYS: tuple[tuple[str, type[np.generic]], ...] = (
    ("state", np.int8),
    ("level", np.int8),
    ("since_bucket", np.int64),
    ("started_bucket", np.int64),
    ("fired_bucket", np.int64),
    ("hot_run", np.int32),
    ("cool_run", np.int32),
    ("critical_run", np.int32),
    ("peak_score", np.float32),
)
_MAGIC = b"OMAB"
_VERSION = 1
_HEADER = struct.Struct("<4sBIq")  # magic, version, series count, last bucket
_ROW_BYTES = sum(np.dtype(dt).itemsize for _, dt in _ARRAYS)


@dataclass(frozen=True, eq=False)
class AlertBook:
    """Alert state of ``n`` series after ``bucket`` was processed; every array is ``[n]``.

    Attributes
    ----------
    bucket : int
        Last bucket stepped; the next step must be later.
    state : int8
        ``AlertState`` code.
    level : int8
        ``Level`` of the pending, open or last resolved alert; 0 when inactive.
    since_bucket : int64
        Bucket of the last state change.
    started_bucket : int64
        First bucket of the hot run that led to the alert (its onset).
    fired_bucket : int64
        Bucket the alert fired (part of its id); -1 while pending or inactive.
    hot_run, cool_run, critical_run : int32
        Consecutive buckets hot, cool, and with the detector at critical, up to ``bucket``.
    peak_score : float32
        Highest score since the alert's episode began.
    """

    bucket: int
    state: npt.NDArray[np.int8]
    level: npt.NDArray[np.int8]
    since_bucket: npt.NDArray[np.int64]
    started_bucket: npt.NDArray[np.int64]
    fired_bucket: npt.NDArray[np.int64]
    hot_run: npt.NDArray[np.int32]
    cool_run: npt.NDArray[np.int32]
    critical_run: npt.NDArray[np.int32]
    peak_score: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        n = np.shape(self.state)
        for name, dtype in _ARRAYS:
            # A private, read-only copy: nobody holding the input can change the book.
            arr = np.array(getattr(self, name), dtype=dtype)
            if arr.shape != n or arr.ndim != 1:
                raise ValidationError(
                    f"alert book field {name} has shape {arr.shape}, expected {n}", field=name
                )
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        for name, top in (("state", max(AlertState)), ("level", max(Level))):
            codes = getattr(self, name)
            if codes.size and (codes.min() < 0 or codes.max() > top):
                raise ValidationError(f"alert book field {name} holds an unknown code", field=name)
        object.__setattr__(self, "bucket", int(self.bucket))

    @classmethod
    def empty(cls, n_series: int, bucket: int = -1) -> AlertBook:
        """A book where no series has ever alerted; ``bucket`` is the one before the first step."""
        none = np.full(n_series, -1, dtype=np.int64)
        zeros = np.zeros(n_series, dtype=np.int32)
        return cls(
            bucket=bucket,
            state=np.zeros(n_series, dtype=np.int8),
            level=np.zeros(n_series, dtype=np.int8),
            since_bucket=none,
            started_bucket=none,
            fired_bucket=none,
            hot_run=zeros,
            cool_run=zeros,
            critical_run=zeros,
            peak_score=np.zeros(n_series, dtype=np.float32),
        )

    @property
    def n_series(self) -> int:
        return int(self.state.size)

    def open_series(self) -> npt.NDArray[np.int64]:
        """Indices of the series whose alert is firing or acknowledged."""
        return np.flatnonzero(np.isin(self.state, OPEN_STATES))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AlertBook):
            return NotImplemented
        return self.bucket == other.bucket and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if f.name != "bucket"
        )

    __hash__ = None  # type: ignore[assignment]

    def to_bytes(self) -> bytes:
        """Compact binary form: a 17-byte header, then each array little-endian (42 B/series)."""
        header = _HEADER.pack(_MAGIC, _VERSION, self.n_series, self.bucket)
        body = b"".join(
            getattr(self, name).astype(np.dtype(dt).newbyteorder("<")).tobytes()
            for name, dt in _ARRAYS
        )
        return header + body

    @classmethod
    def from_bytes(cls, data: bytes) -> AlertBook:
        """Inverse of ``to_bytes``; raises ``ValidationError`` on anything else."""
        if len(data) < _HEADER.size:
            raise ValidationError("alert book bytes too short", field="alert_book")
        magic, version, n, bucket = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValidationError(
                f"not an alert book (magic {magic!r}, version {version})", field="alert_book"
            )
        if len(data) != _HEADER.size + n * _ROW_BYTES:
            raise ValidationError(
                f"alert book of {n} series needs {_HEADER.size + n * _ROW_BYTES} bytes, "
                f"got {len(data)}",
                field="alert_book",
            )
        arrays: dict[str, Any] = {}
        offset = _HEADER.size
        for name, dt in _ARRAYS:
            stored = np.dtype(dt).newbyteorder("<")
            arrays[name] = np.frombuffer(data, dtype=stored, count=n, offset=offset)
            offset += n * np.dtype(dt).itemsize
        return cls(bucket=bucket, **arrays)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"version", "bucket", <field>: [values...]}``."""
        out: dict[str, Any] = {"version": _VERSION, "bucket": self.bucket}
        for name, _ in _ARRAYS:
            out[name] = getattr(self, name).tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertBook:
        """Inverse of ``to_dict``; raises ``ValidationError`` on a missing field or version."""
        if data.get("version") != _VERSION:
            raise ValidationError(
                f"unsupported alert book version {data.get('version')!r}", field="version"
            )
        missing = [name for name, _ in _ARRAYS if name not in data] + (
            ["bucket"] if "bucket" not in data else []
        )
        if missing:
            raise ValidationError(f"alert book lacks {missing}", field=missing[0])
        return cls(
            bucket=int(data["bucket"]),
            **{name: np.asarray(data[name], dtype=dt) for name, dt in _ARRAYS},
        )


def series_of(server: int, metric: int, n_metrics: int) -> int:
    """Series index of (server, metric) in the C-order flattening of ``[server, metric]``."""
    return server * n_metrics + metric


def server_metric_of(series: int, n_metrics: int) -> tuple[int, int]:
    """(server, metric) indices of a series; inverse of ``series_of``."""
    server, metric = divmod(series, n_metrics)
    return server, metric
