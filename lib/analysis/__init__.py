"""Fleet analysis, pure: health and SLA figures, correlations, trends, forecasts, root cause.

Numbers and small records in, numbers and small records out: no clock, no I/O, no store, and
nothing from ``lib.sim``, so every function works on any data. Arrays are documented with
their shape and axis order (``float[T, K]``: T buckets, oldest first, of K series).
"""

from lib.analysis.correlations import (
    CorrelatedPair,
    LaggedCorrelation,
    correlation_matrix,
    lagged_correlations,
    strongest_pairs,
)
from lib.analysis.forecast import Forecast, forecast_linear, t_quantile, time_to_threshold
from lib.analysis.health import (
    STATUS_NAMES,
    STATUS_WEIGHTS,
    FleetHealth,
    ServerStatus,
    fleet_health,
    status_counts,
)
from lib.analysis.rootcause import RootCandidate, RootCauseWeights, rank_root_causes
from lib.analysis.sla import (
    DEFAULT_BURN_WINDOWS,
    Availability,
    BurnRate,
    BurnWindow,
    ErrorBudget,
    IncidentSpan,
    IncidentTimes,
    SlaReport,
    availability,
    availability_from_spans,
    down_fraction,
    error_budget,
    incident_times,
    sla_report,
)
from lib.analysis.topology import dependency_edges, upstream_of
from lib.analysis.trends import TREND_NAMES, LineFit, Trends, fit_lines, linear_trends

__all__ = [
    "DEFAULT_BURN_WINDOWS",
    "STATUS_NAMES",
    "STATUS_WEIGHTS",
    "TREND_NAMES",
    "Availability",
    "BurnRate",
    "BurnWindow",
    "CorrelatedPair",
    "ErrorBudget",
    "FleetHealth",
    "Forecast",
    "IncidentSpan",
    "IncidentTimes",
    "LaggedCorrelation",
    "LineFit",
    "RootCandidate",
    "RootCauseWeights",
    "ServerStatus",
    "SlaReport",
    "Trends",
    "availability",
    "availability_from_spans",
    "correlation_matrix",
    "dependency_edges",
    "down_fraction",
    "error_budget",
    "fit_lines",
    "fleet_health",
    "forecast_linear",
    "incident_times",
    "lagged_correlations",
    "linear_trends",
    "rank_root_causes",
    "sla_report",
    "status_counts",
    "strongest_pairs",
    "t_quantile",
    "time_to_threshold",
    "upstream_of",
]
