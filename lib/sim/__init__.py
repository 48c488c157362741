"""Deterministic fleet simulator: every metric of every server at every bucket is a pure
function of the seed, the bucket and the overrides.

Entry points: ``build_fleet`` → ``Fleet``; ``snapshot`` (one bucket, with status, health and
ground truth) and ``window`` (``float32[bucket, server, metric]``); ``incidents_between`` /
``impacts_between`` for the failures acting when and where, ``benign_between`` for routine
events; ``logs`` and ``processes`` for one server. The answer key, for the world model and
the evaluation only (never the engine's decisions): ``ground_truth`` (cells and
``TruthEvent`` records), ``truth_events`` (records only) and ``window_truth`` (failures'
cells). Nothing here reads a clock, the
environment or a global random generator.
"""

from lib.sim.benign import benign_between
from lib.sim.failures import (
    BENIGN_TYPES,
    EVENT_TYPES,
    FAILURE_TYPES,
    MAGNITUDES,
    FailureType,
    Reach,
    RecoveryStrategy,
    Shape,
)
from lib.sim.fleet import Fleet, build_fleet
from lib.sim.fleet_state import (
    NO_INCIDENT,
    GroundTruth,
    Snapshot,
    ground_truth,
    snapshot,
    window,
    window_truth,
)
from lib.sim.health import SERVER_STATUSES, assess
from lib.sim.incidents import Impact, ImpactGroup, Incident, Overrides, impact_of
from lib.sim.logs import LogLine, logs
from lib.sim.metrics import (
    METRIC_INDEX,
    METRICS,
    PERCENT_METRICS,
    UNITS,
)
from lib.sim.processes import Process, processes
from lib.sim.roles import ARCHITECTURES, ENVIRONMENTS, REGIONS, ROLES
from lib.sim.schedule import impacts_between, incidents_between
from lib.sim.truth import TruthEvent, truth_events

__all__ = [
    "ARCHITECTURES",
    "BENIGN_TYPES",
    "ENVIRONMENTS",
    "EVENT_TYPES",
    "FAILURE_TYPES",
    "MAGNITUDES",
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
    "GroundTruth",
    "Impact",
    "ImpactGroup",
    "Incident",
    "LogLine",
    "Overrides",
    "Process",
    "Reach",
    "RecoveryStrategy",
    "Shape",
    "Snapshot",
    "TruthEvent",
    "assess",
    "benign_between",
    "build_fleet",
    "ground_truth",
    "impact_of",
    "impacts_between",
    "incidents_between",
    "logs",
    "processes",
    "snapshot",
    "truth_events",
    "window",
    "window_truth",
]
