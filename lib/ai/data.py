"""What an answer is computed from, and what it gives back: plain records, no I/O.

The HTTP shell fills ``FleetData`` from the engine's read model of one bucket (the same view
``GET /api/fleet`` serves); the answer logic reads nothing else. ``Reply`` carries the text in
both languages and every figure it quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from lib.sim import METRIC_INDEX, REGIONS, ROLES, UNITS

Lang = Literal["ko", "en"]

# Decimals an answer shows (and rounds its figures to), per metric.
DIGITS: dict[str, int] = {"rps": 0, "connections": 0, "load1": 2}
UNIT_SHORT: dict[str, str] = {"requests/s": "req/s", "runnable tasks": "", "open connections": ""}


@dataclass(frozen=True)
class AlertFact:
    """An alert open at the bucket, as the engine's alert book holds it."""

    id: str
    server: int
    metric: str
    level: str
    state: str
    fired_bucket: int
    peak_score: float


@dataclass(frozen=True)
class IncidentFact:
    """An incident as the engine or the repository records it (never the simulator's truth).

    ``timeline``: ``(bucket, event, reason)`` steps; ``diagnosis``: the engine's diagnosis when
    it has one (root server id, summary text), else None.
    """

    id: str
    type: str
    status: str
    open: bool
    servers: tuple[str, ...]
    started_bucket: int
    detected_bucket: int | None
    strategy: str | None = None
    timeline: tuple[tuple[int, str, str], ...] = ()
    diagnosis: dict[str, Any] | None = None


@dataclass(frozen=True)
class FleetData:
    """The fleet at ``bucket`` and what the engine knows about it."""

    bucket: int
    at: str
    bucket_seconds: int
    ids: tuple[str, ...]
    role: npt.NDArray[np.int8]
    region: npt.NDArray[np.int8]
    values: npt.NDArray[np.float64]
    """float64[server, metric], as the engine computed them (answers round once, as shown)."""
    status: npt.NDArray[np.int8]
    health: npt.NDArray[np.float64]
    fleet_health: float
    active_incidents: int
    alerts: tuple[AlertFact, ...]
    incidents: tuple[IncidentFact, ...]
    depends_on: tuple[tuple[int, ...], ...]
    history: npt.NDArray[np.float32] | None = None
    """float32[T, server, metric] ending at ``bucket``, for trends, forecasts, correlations."""
    history_start: int | None = None

    @property
    def size(self) -> int:
        return len(self.ids)

    def index(self, server_id: str) -> int | None:
        try:
            return self.ids.index(server_id)
        except ValueError:
            return None

    def value(self, server: int, metric: str) -> float:
        return float(self.values[server, METRIC_INDEX[metric]])

    def role_name(self, server: int) -> str:
        return ROLES[int(self.role[server])]

    def region_name(self, server: int) -> str:
        return REGIONS[int(self.region[server])]


@dataclass(frozen=True)
class Figure:
    """A number an answer quotes; ``value`` is rounded exactly as the text shows it."""

    metric: str
    value: float
    unit: str
    server: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric, "value": self.value, "unit": self.unit}
        if self.server is not None:
            out["server"] = self.server
        return out


@dataclass(frozen=True)
class Reply:
    """An answer in both languages, with the servers it names and the figures it quotes."""

    ko: str
    en: str
    servers: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    chart: dict[str, Any] | None = None
    analysis_ko: str = ""
    analysis_en: str = ""

    def text(self, lang: Lang) -> str:
        return self.ko if lang == "ko" else self.en

    def analysis(self, lang: Lang) -> str:
        return self.analysis_ko if lang == "ko" else self.analysis_en


@dataclass
class Draft:
    """A reply being written: lines in both languages, servers and figures as they come."""

    ko: list[str] = field(default_factory=list)
    en: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    analysis_ko: str = ""
    analysis_en: str = ""

    def line(self, ko: str, en: str) -> None:
        self.ko.append(ko)
        self.en.append(en)

    def name(self, *servers: str) -> None:
        for s in servers:
            if s not in self.servers:
                self.servers.append(s)

    def metric(self, metric: str, value: float, server: str | None = None) -> str:
        """Record a metric figure and return it formatted as the text shows it."""
        digits = DIGITS.get(metric, 1)
        # Python's rounding of the float (numpy's rounds a scaled copy: 9.35 → 9.4).
        shown = round(float(value), digits)
        self.figures.append(Figure(metric, shown, UNITS.get(metric, ""), server))
        if server is not None:
            self.name(server)
        return show_metric(metric, shown)

    def number(
        self, name: str, value: float, unit: str, digits: int = 0, server: str | None = None
    ) -> str:
        """Record any other figure (a count, a score, hours) and return it as shown."""
        shown = round(float(value), digits) if digits else round(float(value))
        self.figures.append(Figure(name, float(shown), unit, server))
        if server is not None:
            self.name(server)
        return f"{shown:.{digits}f}"

    def analysed(self, ko: str, en: str) -> None:
        self.analysis_ko, self.analysis_en = ko, en

    def reply(self) -> Reply:
        return Reply(
            ko="\n".join(self.ko),
            en="\n".join(self.en),
            servers=tuple(self.servers),
            figures=tuple(self.figures),
            chart=self.chart,
            analysis_ko=self.analysis_ko,
            analysis_en=self.analysis_en,
        )


def show_metric(metric: str, value: float) -> str:
    """``92.1%``, ``350.0 ms``, ``1200 req/s``: a metric value as answers write it."""
    digits = DIGITS.get(metric, 1)
    short = UNIT_SHORT.get(UNITS[metric], UNITS[metric])
    suffix = "" if not short else short if short == "%" else f" {short}"
    return f"{value:.{digits}f}{suffix}"
