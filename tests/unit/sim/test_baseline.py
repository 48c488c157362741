"""Healthy metrics: role profiles, metrics that move together, smooth noise, safe margins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.sim import Fleet, assess, build_fleet, window
from lib.sim.baseline import healthy_at_knots, knot_buckets
from lib.sim.health import HEALTHY
from lib.sim.metrics import (
    CONNECTIONS,
    CPU,
    DISK,
    ERROR,
    MEMORY,
    METRICS,
    PERCENT_METRICS,
    RESPONSE,
    RPS,
)
from lib.sim.roles import API, CACHE, DATABASE, LOADBALANCER, PRODUCTION, QUEUE, WEB
from tests.unit.sim.conftest import DAY, EPOCH, QUIET, SEED

PERCENT = [METRICS.index(m) for m in PERCENT_METRICS]


@pytest.fixture(scope="module")
def day(fleet: Fleet) -> np.ndarray:
    """A quiet Thursday of the 30-server fleet, ``float32[bucket, server, metric]``."""
    return window(fleet, 0, DAY, QUIET)


def _of(fleet: Fleet, role: int) -> np.ndarray:
    return np.flatnonzero((fleet.role == role) & (fleet.env == PRODUCTION))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    size=st.integers(1, 80),
    b0=st.integers(-(10**8), 10**9),
    length=st.integers(1, 300),
)
def test_metrics_are_finite_and_within_bounds(seed: int, size: int, b0: int, length: int) -> None:
    f = build_fleet(seed, size, epoch_s=EPOCH)
    v = window(f, b0, b0 + length, QUIET)
    assert v.dtype == np.float32
    assert v.shape == (length, size, len(METRICS))
    assert np.isfinite(v).all()
    assert v.min() >= 0
    assert v[..., PERCENT].max() <= 100


def test_role_profiles(fleet: Fleet, day: np.ndarray) -> None:
    def mean(role: int, metric: int) -> float:
        return float(day[:, _of(fleet, role), metric].mean())

    # Caches: very high memory, low CPU; databases: high memory; web < api on CPU.
    assert mean(CACHE, MEMORY) > mean(DATABASE, MEMORY) > mean(API, MEMORY) > mean(WEB, MEMORY)
    assert mean(CACHE, MEMORY) > 75
    assert mean(CACHE, CPU) < 15
    assert mean(API, CPU) > mean(WEB, CPU) > mean(CACHE, CPU)
    assert mean(LOADBALANCER, RPS) > mean(WEB, RPS)


def _variation(series: np.ndarray) -> float:
    return float(series.std() / series.mean())


def test_databases_are_steady_and_queues_are_bursty(fleet: Fleet, day: np.ndarray) -> None:
    def steadiness(role: int) -> float:
        return np.mean([_variation(day[:, s, CPU]) for s in _of(fleet, role)])

    assert steadiness(DATABASE) < 0.6 * min(steadiness(WEB), steadiness(API))

    def burstiness(s: int) -> float:
        cpu = day[:, s, CPU].astype(np.float64)
        trend = np.convolve(cpu, np.ones(200) / 200, mode="same")
        return float(np.percentile((cpu - trend)[200:-200], 99) / cpu.mean())

    queues = [burstiness(s) for s in np.flatnonzero(fleet.role == QUEUE)]
    others = [burstiness(s) for r in (WEB, API, DATABASE) for s in _of(fleet, r)]
    assert min(queues) > 2 * max(others)


def test_rps_drives_cpu_response_connections_and_errors(fleet: Fleet, day: np.ndarray) -> None:
    for s in np.concatenate([_of(fleet, WEB), _of(fleet, API)]):
        series = day[:, s].astype(np.float64).T
        assert np.corrcoef(series[RPS], series[CPU])[0, 1] > 0.9
        assert np.corrcoef(series[RPS], series[RESPONSE])[0, 1] > 0.4
        assert np.corrcoef(series[RPS], series[CONNECTIONS])[0, 1] > 0.99
    for s in _of(fleet, API):
        assert np.corrcoef(day[:, s, CPU], day[:, s, ERROR])[0, 1] > 0.5


def test_disk_grows_slowly_and_drops_at_log_rotation(fleet: Fleet, day: np.ndarray) -> None:
    per_minute = day[::20, :, DISK]
    hourly = day[:, :, DISK].reshape(24, -1, fleet.size).mean(axis=1)
    for s in range(fleet.size):
        steps = np.diff(per_minute[:, s])
        drop = int(steps.argmin())
        assert steps[drop] < -2 * steps.max()
        local_hour = ((EPOCH + drop * 60 + int(fleet.profile.utc_offset_s[s])) % 86_400) / 3600
        assert 2.9 < local_hour < 4.1  # logs rotate between 03:00 and 04:00 local time
        assert (np.diff(hourly[:, s]) > 0).sum() >= 21  # every hour but the rotation's


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), b0=st.integers(0, 10**8))
def test_cpu_is_smooth_noise_not_white(seed: int, b0: int) -> None:
    f = build_fleet(seed, 12, epoch_s=EPOCH)
    cpu = window(f, b0, b0 + 1200, QUIET)[:, :, CPU].astype(np.float64)
    for s in range(f.size):
        x = cpu[:, s] - cpu[:, s].mean()
        assert (x[:-1] @ x[1:]) / (x @ x) >= 0.8


def test_healthy_metrics_stay_inside_their_normal_bands_for_a_week(big_fleet: Fleet) -> None:
    # Buckets are blends of knots, so the knots bound every bucket.
    per_knot = knot_buckets(big_fleet.bucket_seconds)
    for d in range(7):
        knots = healthy_at_knots(
            big_fleet.profile, big_fleet.lanes, SEED, d * DAY // per_knot, DAY // per_knot,
            per_knot * big_fleet.bucket_seconds, EPOCH,
        )  # fmt: skip
        status, health = assess(big_fleet, knots)
        assert (status == HEALTHY).all()
        assert health.min() > 85
        assert knots[:, big_fleet.role == API, CPU].max() < 75
        assert knots[..., ERROR].max() < 1.5


def test_load_follows_each_regions_local_time(fleet: Fleet, day: np.ndarray) -> None:
    hourly = day[:, :, RPS].reshape(24, -1, fleet.size).mean(axis=1)
    offsets = {int(fleet.profile.utc_offset_s[s]) for s in _of(fleet, WEB)}
    assert len(offsets) > 1
    for s in _of(fleet, WEB):
        peak_utc = int(hourly[:, s].argmax())
        local = (peak_utc + int(fleet.profile.utc_offset_s[s]) // 3600) % 24
        assert local in {9, 10, 11, 19, 20, 21}, fleet.ids[s]
        night_utc = (3 - int(fleet.profile.utc_offset_s[s]) // 3600) % 24
        assert hourly[night_utc, s] < 0.4 * hourly[peak_utc, s]


def test_weekends_are_lighter(fleet: Fleet) -> None:
    servers = np.concatenate([_of(fleet, WEB), _of(fleet, API)])
    thursday = window(fleet, 0, DAY, QUIET, servers=servers)[::20, :, RPS].mean(axis=0)
    saturday = window(fleet, 2 * DAY, 3 * DAY, QUIET, servers=servers)[::20, :, RPS]
    assert (saturday.mean(axis=0) < 0.8 * thursday).all()
