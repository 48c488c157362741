"""Deterministic fleet simulator: every metric of every server at every bucket is a pure
function of the seed, the bucket and the overrides.

Entry points: ``build_fleet`` → ``Fleet``; ``snapshot`` (one bucket, with status, health and
ground truth) and ``window`` (``float32[bucket, server, metric]``) with ``window_truth`` for
the matching ground truth; ``incidents_between`` / ``impacts_between`` for what happens when
and where; ``logs`` and ``processes`` for one server. Nothing here reads a clock, the
environment or a global random generator.
"""

from lib.sim.failures import FAILURE_TYPES, FailureType, Reach, RecoveryStrategy
from lib.sim.fleet import Fleet, build_fleet
from lib.sim.fleet_state import NO_INCIDENT, Snapshot, snapshot, window, window_truth
from lib.sim.health import SERVER_STATUSES, assess
from lib.sim.incidents import Impact, ImpactGroup, Incident, Overrides, impact_of
from lib.sim.logs import LogLine, logs
from lib.sim.metrics import METRIC_INDEX, METRICS, PERCENT_METRICS, UNITS
from lib.sim.processes import Process, processes
from lib.sim.roles import ARCHITECTURES, ENVIRONMENTS, REGIONS, ROLES
from lib.sim.schedule import impacts_between, incidents_between

__all__ = [
    "ARCHITECTURES",
    "ENVIRONMENTS",
    "FAILURE_TYPES",
    "METRICS",
    "METRIC_INDEX",
    "NO_INCIDENT",
    "PERCENT_METRICS",
    "REGIONS",
    "ROLES",
    "SERVER_STATUSES",
    "UNITS",
    "FailureType",
    "Fleet",
    "Impact",
    "ImpactGroup",
    "Incident",
    "LogLine",
    "Overrides",
    "Process",
    "Reach",
    "RecoveryStrategy",
    "Snapshot",
    "assess",
    "build_fleet",
    "impact_of",
    "impacts_between",
    "incidents_between",
    "logs",
    "processes",
    "snapshot",
    "window",
    "window_truth",
]
