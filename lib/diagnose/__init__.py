"""Diagnosis from what is observed: an alert group's metrics, logs and topology → the failure.

Pure: numbers and strings in, a ``Diagnosis`` out. It reads the failure catalogue (the
runbook) but never the simulator's ground truth (schedule, impacts, incident labels).
"""

from lib.diagnose.classify import diagnose
from lib.diagnose.model import UNKNOWN, Diagnosis, Hypothesis, Moved, Observation, ObservedLog
from lib.diagnose.signatures import RECOVERY_OF, SIGNATURES, Signature
from lib.diagnose.text import TYPE_KO

__all__ = [
    "RECOVERY_OF",
    "SIGNATURES",
    "TYPE_KO",
    "UNKNOWN",
    "Diagnosis",
    "Hypothesis",
    "Moved",
    "Observation",
    "ObservedLog",
    "Signature",
    "diagnose",
]
