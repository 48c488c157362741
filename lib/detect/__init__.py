"""Adaptive anomaly detection for any numeric series (pure: numbers in, numbers out).

``score_window`` scores many series over a window at once; ``Detector`` is the same detector
fed one sample at a time. Both give the same answers; ``lib.detect.levels`` maps scores to
alert levels. ``python -m lib.detect score FILE.csv`` scores a ``timestamp,value`` file.
"""

from lib.detect.adaptive import Scores, score_window
from lib.detect.levels import CLEAR, CRITICAL, HELD, WARNING, Level, level_of, levels_of
from lib.detect.params import DEFAULT_PARAMS, Direction, Params, SeriesConfig, SeriesConfigs
from lib.detect.state import State
from lib.detect.stream import Detector, Thresholds

__all__ = [
    "CLEAR",
    "CRITICAL",
    "DEFAULT_PARAMS",
    "HELD",
    "WARNING",
    "Detector",
    "Direction",
    "Level",
    "Params",
    "Scores",
    "SeriesConfig",
    "SeriesConfigs",
    "State",
    "Thresholds",
    "level_of",
    "levels_of",
    "score_window",
]
