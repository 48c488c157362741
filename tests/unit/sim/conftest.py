"""Fleets and overrides shared by the simulator tests (built once: they are immutable)."""

from __future__ import annotations

import pytest

from lib.config import DEFAULT_EPOCH_S
from lib.sim import Fleet, Overrides, build_fleet

SEED = 20_251_123
# DEFAULT_EPOCH_S is 2026-01-01T00:00:00Z, a Thursday: day 2 and 3 after it are a weekend.
EPOCH = DEFAULT_EPOCH_S
DAY = 28_800  # buckets of 3 s
QUIET = Overrides(failures_enabled=False, benign_enabled=False)  # the healthy model alone


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    return build_fleet(SEED, 30, epoch_s=EPOCH)


@pytest.fixture(scope="session")
def big_fleet() -> Fleet:
    return build_fleet(SEED, 300, epoch_s=EPOCH)
