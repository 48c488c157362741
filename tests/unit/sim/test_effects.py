"""Every failure type leaves its signature on its targets and cascade, and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from lib.sim import FAILURE_TYPES, METRICS, Fleet, Incident, Overrides, assess, impact_of, window
from lib.sim.failures import Reach
from lib.sim.health import HEALTHY
from lib.sim.metrics import PERCENT_METRICS
from lib.sim.roles import PRODUCTION
from tests.unit.sim.conftest import QUIET

START = 12_000  # 10:00 UTC: daytime in Europe, evening in Asia
LENGTH = 400
SPAN = (START - 250, START + LENGTH + 100)
PERCENT = {METRICS.index(m) for m in PERCENT_METRICS}
ALARMED = {  # types whose targets cross a fixed status threshold whatever the time of day
    "cpu_overload", "memory_leak", "disk_full", "network_failure", "application_crash",
    "database_timeout", "api_failure", "config_error", "load_balancer_down",
    "dns_resolution_failure",
}  # fmt: skip


def _decisive(before: np.ndarray, after: np.ndarray, metric: int) -> np.ndarray:
    if metric in PERCENT:
        return np.abs(after - before) >= 5
    ratio = (after + 1e-3) / (before + 1e-3)
    return (ratio >= 2) | (ratio <= 0.5)


def _noticeable(before: np.ndarray, after: np.ndarray, metric: int) -> np.ndarray:
    if metric in PERCENT:
        return np.abs(after - before) >= 0.8
    return np.abs(after - before) >= 0.25 * before


def _incident(fleet: Fleet, kind: str) -> Incident:
    failure = FAILURE_TYPES[kind]
    eligible = [
        int(s) for s in fleet.servers_with_roles(failure.roles) if fleet.env[s] == PRODUCTION
    ]
    first = eligible[-1]
    targets = [s for s in eligible if fleet.region[s] == fleet.region[first]][: failure.targets[1]]
    return Incident(f"ops-{kind}", kind, tuple(sorted(targets)), START, LENGTH, injected=True)


@pytest.fixture(scope="module")
def quiet(fleet: Fleet) -> np.ndarray:
    return window(fleet, *SPAN, QUIET)


@pytest.mark.parametrize("kind", FAILURE_TYPES)
def test_signature_on_targets_and_cascade_only(fleet: Fleet, quiet: np.ndarray, kind: str) -> None:
    incident = _incident(fleet, kind)
    overrides = Overrides(injected=(incident,), failures_enabled=False)
    impact = impact_of(fleet, incident, overrides)
    hit = window(fleet, *SPAN, overrides)

    def at(bucket: int) -> int:
        return bucket - SPAN[0]

    untouched = [s for s in range(fleet.size) if s not in impact.servers]
    assert np.array_equal(hit[:, untouched], quiet[:, untouched])
    assert np.array_equal(hit[: at(impact.first_bucket)], quiet[: at(impact.first_bucket)])
    assert np.array_equal(hit[at(impact.last_bucket) :], quiet[at(impact.last_bucket) :])

    failure = FAILURE_TYPES[kind]
    key = [METRICS.index(m) for m in failure.key_metrics]
    second = at(START + 1)  # detection delay is measured from the start bucket
    status, _ = assess(fleet, hit)
    for s in incident.targets:
        for m in key:
            assert (
                _decisive(
                    quiet[second : at(START + LENGTH), s, m],
                    hit[second : at(START + LENGTH), s, m],
                    m,
                ).mean()
                > 0.9
            ), (s, METRICS[m])
        assert status[at(START) - 1, s] == HEALTHY  # a precursor stays below alert levels
        if kind in ALARMED:
            assert status[second, s] != HEALTHY
    for group in impact.groups:
        if group.reach is Reach.TARGET:
            continue
        for s in group.servers:
            during = slice(at(START + group.lag_buckets), at(START + LENGTH))
            moved = [
                _noticeable(quiet[during, s, m], hit[during, s, m], m).mean() for m in group.metrics
            ]
            assert max(moved) > 0.9, (group.reach, fleet.ids[s])
            assert np.array_equal(hit[: during.start, s], quiet[: during.start, s])


@pytest.mark.parametrize("kind", FAILURE_TYPES)
def test_recovery_settles_back_to_normal(fleet: Fleet, quiet: np.ndarray, kind: str) -> None:
    incident = _incident(fleet, kind)
    recovered_at = START + 90  # mid-cycle for a memory leak, not during an OOM kill
    overrides = Overrides(
        injected=(incident,), recovered_at={incident.id: recovered_at}, failures_enabled=False
    )
    impact = impact_of(fleet, incident, overrides)
    assert impact.recovered
    assert impact.end_bucket == recovered_at
    assert impact.last_bucket - recovered_at <= 22  # about a minute of settling at 3 s
    hit = window(fleet, *SPAN, overrides)
    back = impact.last_bucket - SPAN[0]
    assert np.array_equal(hit[back:], quiet[back:])
    s = incident.targets[0]
    key = METRICS.index(FAILURE_TYPES[kind].key_metrics[0])
    gap = np.abs(hit[:, s, key] - quiet[:, s, key])
    settling = gap[recovered_at - SPAN[0] - 1 : back]
    assert settling[-1] < 0.2 * settling[0]
    assert (np.diff(settling) <= 1e-3 * (1 + settling[:-1])).mean() > 0.8  # mostly decreasing
