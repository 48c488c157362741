"""Hypothesis strategies shared by the detector's property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.detect import DEFAULT_PARAMS, Direction, Params, SeriesConfig, SeriesConfigs

# Small enough that short windows pass warm-ups, refreshes, holds and every season slot.
BUSY = Params(
    warmup=5,
    refresh=4,
    hold=3,
    season_slots=6,
    season_rate=0.5,
    envelope_half_life=40.0,
    envelope_idle=8.0,
    envelope_fade=12.0,
)
PARAMS = st.sampled_from([DEFAULT_PARAMS, BUSY])
START = 1_700_000_000.0

# Repeated values make ties, flat stretches and exact records; the rest is anything.
_ELEMENTS = st.one_of(
    st.sampled_from([0.0, 1.0, 5.0, 100.0]),
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)


@st.composite
def windows(
    draw: st.DrawFn, max_rows: int = 90, max_series: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """``(values float[T, S], timestamps float[T])`` with positive gaps up to an hour."""
    n_rows = draw(st.integers(1, max_rows))
    n_series = draw(st.integers(1, max_series))
    values = draw(hnp.arrays(np.float64, (n_rows, n_series), elements=_ELEMENTS))
    gaps = draw(hnp.arrays(np.float64, n_rows, elements=st.floats(1.0, 3600.0)))
    return values, START + np.cumsum(gaps)


@st.composite
def configs(draw: st.DrawFn, n_series: int) -> SeriesConfigs:
    """Any directions; floors sometimes, with warning never beyond critical."""
    chosen = []
    for _ in range(n_series):
        direction = draw(st.sampled_from(list(Direction)))
        above = sorted(draw(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=2)))
        below = sorted(draw(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=2)))
        if draw(st.booleans()):
            chosen.append(SeriesConfig(direction, above[0], above[1], below[1], below[0]))
        else:
            chosen.append(SeriesConfig(direction))
    return SeriesConfigs.of(chosen)
