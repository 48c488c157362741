"""Detection resumed from a memoised detector state is the detection computed from scratch.

``detect`` keeps the adaptive detector's state at refresh boundaries of the anchored window
(``CHECKPOINTS``) so that the next bucket costs a few rows instead of the whole window. It
must be a cache only: every array equal, bit for bit, to the full window's, whatever calls
came before, across refresh and anchor boundaries and when the overrides change.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from lib.config import DEFAULT_EPOCH_S
from lib.engine.detection import (
    ADAPTIVE,
    ANCHOR_BUCKETS,
    CHECKPOINTS,
    F64,
    WARMUP_BUCKETS,
    Checkpoints,
    Detection,
    anchor_of,
    detect,
)
from lib.sim import Fleet, Incident, Overrides, build_fleet

SEED = 20_251_123
# Two refresh periods before an anchor boundary, a weekday morning (buckets of 3 s).
NEAR_ANCHOR = 20 * 28_800 + 3 * 3600 // 3 + ANCHOR_BUCKETS - 70
FIELDS = ("values", "score", "level", "baseline", "warn_upper", "crit_upper", "status", "health")


def from_scratch(flat: F64, timestamps: F64, n_servers: int) -> tuple[F64, ...]:
    """The same detector, but not an ``AdaptiveScorer``: never checkpointed."""
    return ADAPTIVE(flat, timestamps, n_servers)


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return build_fleet(SEED, 8, epoch_s=DEFAULT_EPOCH_S)


@pytest.fixture(autouse=True)
def empty_checkpoints() -> Iterator[None]:
    CHECKPOINTS.clear()
    yield
    CHECKPOINTS.clear()


def assert_identical(got: Detection, want: Detection) -> None:
    assert (got.b0, got.b1) == (want.b0, want.b1)
    for name in FIELDS:
        assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True), name


def test_bucket_after_bucket_across_refresh_and_anchor_boundaries(fleet: Fleet) -> None:
    quiet = Overrides(failures_enabled=False)
    for bucket in range(NEAR_ANCHOR, NEAR_ANCHOR + 110, 3):
        got = detect(fleet, quiet, bucket, bucket + 1)
        assert_identical(got, detect(fleet, quiet, bucket, bucket + 1, scorer=from_scratch))


def test_a_checkpoint_is_kept_and_used(fleet: Fleet) -> None:
    quiet = Overrides(failures_enabled=False)
    bucket = NEAR_ANCHOR
    w0 = anchor_of(bucket) - WARMUP_BUCKETS
    assert CHECKPOINTS.latest(fleet, quiet, ADAPTIVE, w0, bucket) == (w0, None)
    detect(fleet, quiet, bucket, bucket + 1)
    at, state = CHECKPOINTS.latest(fleet, quiet, ADAPTIVE, w0, bucket + 1)
    assert state is not None
    assert bucket + 1 - ADAPTIVE.params.refresh < at <= bucket + 1
    assert (at - w0) % ADAPTIVE.params.refresh == 0
    # Another fleet, other overrides or an earlier bucket do not see it.
    other = build_fleet(SEED, 8, epoch_s=DEFAULT_EPOCH_S)
    assert CHECKPOINTS.latest(other, quiet, ADAPTIVE, w0, bucket + 1) == (w0, None)
    assert CHECKPOINTS.latest(fleet, Overrides(), ADAPTIVE, w0, bucket + 1) == (w0, None)
    assert CHECKPOINTS.latest(fleet, quiet, ADAPTIVE, w0, at - 1) == (w0, None)


def test_batches_and_a_past_bucket_in_between(fleet: Fleet) -> None:
    leak = Incident("inj-test", "memory_leak", (fleet.index_of("api-01"),), NEAR_ANCHOR, 600)
    overrides = Overrides(injected=(leak,), failure_rate_per_hour=4.0)
    calls = [(NEAR_ANCHOR, 20), (NEAR_ANCHOR + 20, 20), (NEAR_ANCHOR - 400, 1)]
    calls += [(NEAR_ANCHOR + 40, 20), (NEAR_ANCHOR + 60, 45), (NEAR_ANCHOR + 105, 1)]
    for b0, n in calls:
        got = detect(fleet, overrides, b0, b0 + n)
        assert_identical(got, detect(fleet, overrides, b0, b0 + n, scorer=from_scratch))


def test_changed_overrides_are_not_served_old_states(fleet: Fleet) -> None:
    quiet = Overrides(failures_enabled=False)
    detect(fleet, quiet, NEAR_ANCHOR, NEAR_ANCHOR + 40)
    crash = Incident("inj-leak", "memory_leak", (fleet.index_of("api-01"),), NEAR_ANCHOR - 300, 900)
    loud = Overrides(injected=(crash,), failures_enabled=False)
    got = detect(fleet, loud, NEAR_ANCHOR + 40, NEAR_ANCHOR + 41)
    want = detect(fleet, loud, NEAR_ANCHOR + 40, NEAR_ANCHOR + 41, scorer=from_scratch)
    assert_identical(got, want)
    assert not np.array_equal(
        got.values, detect(fleet, quiet, NEAR_ANCHOR + 40, NEAR_ANCHOR + 41).values
    )


def test_the_memo_stays_within_its_budget(fleet: Fleet) -> None:
    quiet = Overrides(failures_enabled=False)
    bucket = NEAR_ANCHOR
    w0 = anchor_of(bucket) - WARMUP_BUCKETS
    detect(fleet, quiet, bucket, bucket + 1)
    at, state = CHECKPOINTS.latest(fleet, quiet, ADAPTIVE, w0, bucket + 1)
    assert state is not None
    one = state.nbytes
    small = Checkpoints(size=10, max_bytes=2 * one)
    for k in (3, 2, 1, 0):  # oldest first
        small.put(fleet, quiet, ADAPTIVE, w0, at - 32 * k, state)
    assert small.nbytes <= 2 * one
    # The newest are kept; the oldest went.
    assert small.latest(fleet, quiet, ADAPTIVE, w0, at)[0] == at
    assert small.latest(fleet, quiet, ADAPTIVE, w0, at - 64) == (w0, None)
    tiny = Checkpoints(max_bytes=one - 1)
    tiny.put(fleet, quiet, ADAPTIVE, w0, at, state)
    assert tiny.latest(fleet, quiet, ADAPTIVE, w0, at) == (w0, None)
