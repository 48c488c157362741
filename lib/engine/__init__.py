"""The engine: the shell that runs the pure core over time and keeps its state in the KV."""

from lib.engine.core import AdvanceReport, Engine, EngineLimits
from lib.engine.records import Event

__all__ = ["AdvanceReport", "Engine", "EngineLimits", "Event"]
