"""What diagnosis reads and what it concludes: plain records, JSON-able."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

UNKNOWN = "unknown"
"""The type of a harmful anomaly that matches no signature well enough."""


@dataclass(frozen=True)
class ObservedLog:
    """One log line as an operator sees it: no incident label."""

    bucket: int
    server: int
    level: str
    source: str
    message: str


@dataclass(frozen=True)
class Observation:
    """Everything diagnosis may look at for one alert group; never ground truth.

    ``values`` is float32[bucket, server, metric] for buckets ``b0 .. bucket`` of
    ``servers`` (fleet indices), long enough to hold a baseline before the anomaly.
    ``alerted`` lists the (server, metric, onset bucket) of the group's alerts.
    ``depends_on[i]`` are the servers fleet server ``i`` calls; ``roles`` and ``regions``
    are per fleet server. ``climbing`` lists the (server, metric) found climbing steadily
    over the last hour (``lib.engine.trends``): a rise too slow to stand out from the
    metric's recent spread, yet sure.
    """

    bucket: int
    b0: int
    servers: tuple[int, ...]
    values: npt.NDArray[np.float32]
    alerted: tuple[tuple[int, str, int], ...]
    root_hint: int
    roles: tuple[str, ...]
    regions: tuple[int, ...]
    depends_on: tuple[tuple[int, ...], ...]
    ids: tuple[str, ...]
    logs: tuple[ObservedLog, ...] = ()
    climbing: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Hypothesis:
    """A candidate failure type with its score in [0, 1]."""

    type: str
    score: float


@dataclass(frozen=True)
class Moved:
    """A metric that left its baseline on one server."""

    server: int
    metric: str
    direction: int  # +1 up, -1 down
    baseline: float
    observed: float
    z: float
    onset_bucket: int


@dataclass(frozen=True)
class Diagnosis:
    """What the engine concludes about one failure behind an alert group."""

    type: str
    confidence: float
    hypotheses: tuple[Hypothesis, ...]
    root: int
    affected: tuple[int, ...]
    onset_bucket: int
    moved: tuple[Moved, ...]
    log_lines: tuple[ObservedLog, ...]
    summary_en: str
    summary_ko: str
    harmful: bool = True
    explained: tuple[int, ...] = field(default=())
    routine: str | None = None
    """The routine pattern a harmless anomaly looks like (``lib.diagnose.routine``)."""

    @property
    def is_incident(self) -> bool:
        """An incident is opened for a recognised failure or a harmful unknown anomaly, never
        for routine load."""
        return self.routine is None and (self.type != UNKNOWN or self.harmful)

    def to_dict(self, ids: tuple[str, ...]) -> dict[str, Any]:
        """JSON form with server ids for indices."""
        return {
            "type": self.type,
            "confidence": round(self.confidence, 3),
            "hypotheses": [{"type": h.type, "score": round(h.score, 3)} for h in self.hypotheses],
            "root_server": ids[self.root],
            "affected": [ids[s] for s in self.affected],
            "onset_bucket": self.onset_bucket,
            "evidence": {
                "metrics": [
                    {
                        "server": ids[m.server],
                        "metric": m.metric,
                        "direction": "up" if m.direction > 0 else "down",
                        "baseline": round(m.baseline, 3),
                        "observed": round(m.observed, 3),
                        "z": round(m.z, 2),
                        "onset_bucket": m.onset_bucket,
                    }
                    for m in self.moved
                ],
                "logs": [
                    {
                        "bucket": line.bucket,
                        "server": ids[line.server],
                        "level": line.level,
                        "source": line.source,
                        "message": line.message,
                    }
                    for line in self.log_lines
                ],
            },
            "summary_en": self.summary_en,
            "summary_ko": self.summary_ko,
        }
