"""The naive mean ± 2σ baseline on flat stretches."""

from __future__ import annotations

import numpy as np

from tests.bench import baselines


def test_a_long_flat_stretch_after_moving_values_is_not_an_outlier_of_itself() -> None:
    """Cumsum rounding once made every row of such a stretch score 1 (an infinite z)."""
    rng = np.random.default_rng(1)
    moving = 2.8e6 + 6e4 * rng.standard_normal(2000)
    x = np.concatenate((moving, np.full(1000, 2.85e6), [2.9e6]))
    score = baselines.mean_2sigma(x, window=288)
    assert np.all(score[2000 + 288 : 3000] == 0.0)
    assert score[3000] == 1.0  # any change from a perfectly flat window is as far as it gets
    assert 0.0 < score[2000:2288].max() < 1.0
