"""A parsed file's rows through the detector: one score per row, in file order.

The CLI prints these scores; the NAB benchmarks and the tuning script call the same function
in-process, so what they measure is what the CLI prints.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lib.detect.adaptive import score_window
from lib.detect.csvio import Series
from lib.detect.params import DEFAULT_PARAMS, Params, SeriesConfig, SeriesConfigs

__all__ = ["score_series"]


def score_series(
    series: Series, config: SeriesConfig, params: Params = DEFAULT_PARAMS
) -> npt.NDArray[np.float64]:
    """One score per row: the detector's over the scorable rows, 0 for the others."""
    usable = series.scorable
    scores = np.zeros(len(series.values))
    if usable.any():
        result = score_window(
            series.values[usable, None],
            series.clock[usable],
            params,
            configs=SeriesConfigs.of([config]),
        )
        scores[usable] = result.score[:, 0]
    return scores
