"""The streaming form: one series, one sample at a time, O(1) memory.

``Detector.update`` runs ``score_window`` on a single row, so it gives exactly the answers of
the vectorised form; between samples all it keeps is a ``State`` (one row of floats), which
``to_bytes``/``from_bytes`` carry to and from a store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.detect.adaptive import score_window
from lib.detect.params import DEFAULT_PARAMS, Params, SeriesConfig, SeriesConfigs
from lib.detect.state import State
from lib.errors import ValidationError

__all__ = ["Detector", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """The baseline and bands in force at the last sample; NaN where none is."""

    baseline: float
    warn_upper: float
    crit_upper: float
    warn_lower: float
    crit_lower: float


class Detector:
    """Adaptive detector of one series fed sample by sample."""

    def __init__(
        self,
        params: Params = DEFAULT_PARAMS,
        config: SeriesConfig | None = None,
        state: State | None = None,
    ) -> None:
        if state is not None and state.n_series != 1:
            raise ValidationError("a Detector keeps the state of exactly one series", field="state")
        self.params = params
        self._configs = SeriesConfigs.of([config or SeriesConfig()])
        self._state = state or State.fresh(1, params.season_slots, params.hold)
        nan = float("nan")
        self.thresholds = Thresholds(nan, nan, nan, nan, nan)

    @property
    def state(self) -> State:
        return self._state

    def update(self, value: float, timestamp: float) -> float:
        """Score ``value`` observed at ``timestamp`` (unix seconds), then learn from it."""
        result = score_window(
            np.array([[value]], dtype=np.float64),
            np.array([timestamp], dtype=np.float64),
            self.params,
            configs=self._configs,
            state=self._state,
        )
        self._state = result.state
        self.thresholds = Thresholds(
            float(result.baseline[0, 0]),
            float(result.warn_upper[0, 0]),
            float(result.crit_upper[0, 0]),
            float(result.warn_lower[0, 0]),
            float(result.crit_lower[0, 0]),
        )
        return float(result.score[0, 0])

    def to_bytes(self) -> bytes:
        return self._state.to_bytes()

    @classmethod
    def from_bytes(
        cls, blob: bytes, params: Params = DEFAULT_PARAMS, config: SeriesConfig | None = None
    ) -> Detector:
        return cls(params, config, State.from_bytes(blob))
