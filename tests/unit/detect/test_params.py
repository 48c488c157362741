from __future__ import annotations

import math

import numpy as np
import pytest

from lib.detect import DEFAULT_PARAMS, Direction, Params, SeriesConfig, SeriesConfigs
from lib.errors import ValidationError


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("level_rate", 0.0),
        ("level_rate", 0.75),
        ("fast_rate", 1.5),
        ("winsor", -1.0),
        ("band_sigmas", 0.0),
        ("envelope_margin", -0.1),
        ("envelope_half_life", math.inf),
        ("season_slots", 0),
        ("hold", -1),
        ("warmup", 0),
        ("refresh", 1000),
        ("trend_horizon", math.nan),
    ],
)
def test_a_bad_parameter_is_named(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as caught:
        Params(**{field: value})
    assert caught.value.details["field"] == field
    assert field in str(caught.value)


def test_defaults_are_valid_and_shared() -> None:
    assert Params() == DEFAULT_PARAMS


def test_configs_are_stacked_column_wise() -> None:
    cfg = SeriesConfigs.of(
        [SeriesConfig(Direction.HIGH, warn_above=80.0, crit_above=90.0), SeriesConfig()]
    )
    assert len(cfg) == 2
    assert cfg.direction.tolist() == [1, 3]
    np.testing.assert_array_equal(cfg.floors[0], [80.0, 90.0, math.nan, math.nan])
    assert np.isnan(cfg.floors[1]).all()
    assert SeriesConfigs.uniform(3).floors.shape == (3, 4)


def test_a_series_must_watch_some_direction() -> None:
    with pytest.raises(ValidationError) as caught:
        SeriesConfigs.of([SeriesConfig(Direction(0))])
    assert caught.value.details["field"] == "direction"
