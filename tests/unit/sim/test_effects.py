"""Every failure type leaves its signature on its targets and cascade, and nowhere else."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lib.sim import FAILURE_TYPES, METRICS, Fleet, Incident, Overrides, assess, impact_of, window
from lib.sim.failures import Reach, Shape
from lib.sim.health import HEALTHY
from lib.sim.metrics import PERCENT_METRICS
from lib.sim.roles import PRODUCTION
from tests.unit.sim.conftest import QUIET

START = 12_000  # 10:00 UTC: daytime in Europe, evening in Asia
LENGTH = 400  # buckets at full effect, after the onset
LONGEST = 14_400 + LENGTH  # a 12-hour disk fill, then LENGTH
SPAN = (START - 250, START + LONGEST + 100)
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
    """A severe ``kind`` on production servers: its onset, then LENGTH buckets at full effect."""
    failure = FAILURE_TYPES[kind]
    eligible = [
        int(s) for s in fleet.servers_with_roles(failure.roles) if fleet.env[s] == PRODUCTION
    ]
    first = eligible[-1]
    targets = [s for s in eligible if fleet.region[s] == fleet.region[first]][: failure.targets[1]]
    incident = Incident(
        f"ops-{kind}", kind, tuple(sorted(targets)), START, 1, injected=True, magnitude="severe"
    )
    return replace(incident, duration_buckets=incident.onset_buckets(3) + LENGTH)


@pytest.fixture(scope="module")
def quiet(fleet: Fleet) -> np.ndarray:
    return window(fleet, *SPAN, QUIET)


@pytest.mark.parametrize("kind", FAILURE_TYPES)
def test_signature_on_targets_and_cascade_only(fleet: Fleet, quiet: np.ndarray, kind: str) -> None:
    incident = _incident(fleet, kind)
    overrides = Overrides(injected=(incident,), failures_enabled=False, benign_enabled=False)
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
    critical = at(START + incident.onset_buckets(3))
    end = at(impact.end_bucket)
    # Bursts come and go; a leak starts over after each OOM kill; the rest stays decisive.
    share = {Shape.INTERMITTENT: 0.3, Shape.GRADUAL: 0.1}.get(failure.shape, 0.9)
    status, _ = assess(fleet, hit)
    for s in incident.targets:
        for m in key:
            moved = _decisive(quiet[critical:end, s, m], hit[critical:end, s, m], m)
            assert moved.mean() > share, (s, METRICS[m])
        assert status[at(START) - 1, s] == HEALTHY  # a precursor stays below alert levels
        if kind in ALARMED:
            # A gradual failure peaks just before its critical bucket (the OOM kill, a full disk).
            peak = critical - 2 if failure.shape is Shape.GRADUAL else critical + 1
            assert status[peak, s] != HEALTHY
    for group in impact.groups:
        if group.reach is Reach.TARGET:
            continue
        for s in group.servers:
            during = slice(critical + group.lag_buckets, end)
            moved = [
                _noticeable(quiet[during, s, m], hit[during, s, m], m).mean() for m in group.metrics
            ]
            # A leak's callers feel it mostly during the OOM kills.
            need = 0.0 if kind == "memory_leak" else min(share, 0.9)
            assert max(moved) > need, (group.reach, fleet.ids[s])
            before = at(START + group.lag_buckets)
            assert np.array_equal(hit[:before, s], quiet[:before, s])


@pytest.mark.parametrize("kind", FAILURE_TYPES)
def test_recovery_settles_back_to_normal(fleet: Fleet, quiet: np.ndarray, kind: str) -> None:
    incident = _incident(fleet, kind)
    # Recovered 90 buckets after the full effect: mid-cycle for a memory leak, not during an
    # OOM kill, and during a burst for a network failure.
    recovered_at = START + incident.onset_buckets(3) + 90
    overrides = Overrides(
        injected=(incident,),
        recovered_at={incident.id: recovered_at},
        failures_enabled=False,
        benign_enabled=False,
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


def test_concurrent_incidents_compose_the_same_whatever_their_ids(fleet: Fleet) -> None:
    """A breach on a web server whose balancer goes dark at the same moment: the cut scales
    the traffic, the intruder's work comes on top, whichever incident sorts first."""
    quiet = Overrides(failures_enabled=False, benign_enabled=False)
    dark = _incident(fleet, "load_balancer_down")
    behind = next(
        s for g in impact_of(fleet, dark, quiet).groups if g.reach is Reach.CALLEES
        for s in g.servers
    )  # fmt: skip

    def hit(dark_id: str, breach_id: str) -> np.ndarray:
        breach = Incident(breach_id, "security_breach", (behind,), START, 600, injected=True,
                          magnitude="severe", draw=7)  # fmt: skip
        both = replace(quiet, injected=(replace(dark, id=dark_id, draw=11), breach))
        return window(fleet, START - 20, START + LENGTH, both, servers=[behind])[:, 0]

    first, last = hit("a-dark", "b-breach"), hit("z-dark", "b-breach")
    assert np.array_equal(first, last)
    before = window(fleet, START - 20, START, quiet, servers=[behind])[:, 0]
    full = first[-80:]  # the breach's onset (at most 300 buckets) is over, the cut still on
    out, cpu = METRICS.index("net_out_mbps"), METRICS.index("cpu_pct")
    assert full[:, out].min() > 2 * before[:, out].max()  # the upload survives the cut
    assert full[:, cpu].mean() > before[:, cpu].mean() + 20
    assert full[:, METRICS.index("rps")].max() == 0  # while nothing is served
