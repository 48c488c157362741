from __future__ import annotations

from dataclasses import astuple, fields

import numpy as np
import pytest
from hypothesis import given, settings

from lib.detect import (
    Detector,
    Direction,
    SeriesConfig,
    SeriesConfigs,
    State,
    Thresholds,
    score_window,
)
from lib.errors import ValidationError
from tests.unit.detect.strategies import BUSY, windows


@settings(max_examples=25, deadline=None)
@given(windows(max_rows=60, max_series=1))
def test_one_sample_at_a_time_gives_the_vectorised_answers(window) -> None:
    values, ts = window
    config = SeriesConfig(Direction.HIGH, crit_above=50.0)
    whole = score_window(values, ts, BUSY, configs=SeriesConfigs.of([config]))
    detector = Detector(BUSY, config)
    scores, bands = [], []
    for value, t in zip(values[:, 0], ts, strict=True):
        scores.append(detector.update(float(value), float(t)))
        bands.append(astuple(detector.thresholds))
    scale = 1e-9 * (1.0 + np.abs(values).max())
    np.testing.assert_allclose(scores, whole.score[:, 0], rtol=1e-9, atol=1e-9)
    expected = np.stack([getattr(whole, f.name)[:, 0] for f in fields(Thresholds)], axis=1)
    np.testing.assert_allclose(np.array(bands), expected, rtol=1e-9, atol=scale)
    np.testing.assert_allclose(detector.state.data, whole.state.data, rtol=1e-9, atol=scale)


def test_a_detector_resumes_from_its_bytes() -> None:
    rng = np.random.default_rng(2)
    values = 10.0 + rng.standard_normal(200)
    values[150] += 20.0
    ts = 1.7e9 + 60.0 * np.arange(200)
    straight = Detector()
    expected = [straight.update(v, t) for v, t in zip(values, ts, strict=True)]
    first = Detector()
    got = [first.update(v, t) for v, t in zip(values[:100], ts[:100], strict=True)]
    resumed = Detector.from_bytes(first.to_bytes())
    got += [resumed.update(v, t) for v, t in zip(values[100:], ts[100:], strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert max(got) >= 0.8


def test_a_detector_keeps_one_series() -> None:
    with pytest.raises(ValidationError):
        Detector(state=State.fresh(2, 24, 30))
    assert np.isnan(Detector().thresholds.warn_upper)
