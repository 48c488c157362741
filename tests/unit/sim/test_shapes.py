"""Failures as they really look: onset shapes, magnitudes, benign events, look-alike pairs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.sim import (
    BENIGN_TYPES,
    FAILURE_TYPES,
    MAGNITUDES,
    Fleet,
    Incident,
    Overrides,
    Shape,
    build_fleet,
    ground_truth,
    impact_of,
    incidents_between,
    window,
)
from lib.sim.metrics import (
    CPU,
    DISK,
    ERROR,
    LATENCY,
    MEMORY,
    METRIC_INDEX,
    NET_OUT,
    PACKET_LOSS,
    RESPONSE,
    RPS,
)
from lib.sim.roles import API, LOADBALANCER, REGION_UTC_OFFSET_S, REGIONS, WEB
from tests.unit.sim.conftest import DAY, EPOCH, QUIET, SEED

START = 12_000
MINUTE = 20  # buckets of 3 s


def _alone(incident: Incident) -> Overrides:
    return Overrides(injected=(incident,), failures_enabled=False, benign_enabled=False)


def _drawn(
    fleet: Fleet, kind: str, server: str, magnitude: str = "severe", key: str = "x"
) -> Incident:
    """``kind`` on ``server`` from START: its drawn onset, then 200 buckets at full effect."""
    drawn = Incident(f"{kind}-{key}", kind, (fleet.index_of(server),), START, 1, True, magnitude)
    return replace(drawn, duration_buckets=drawn.onset_buckets(3) + 200)


def _series(
    fleet: Fleet, incident: Incident, server: str, metric: int, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """The metric of ``server`` over ``[lo, hi)`` with ``incident`` alone, and without it."""
    s = fleet.index_of(server)
    hit = window(fleet, lo, hi, _alone(incident), servers=[s])[:, 0, metric]
    quiet = window(fleet, lo, hi, QUIET, servers=[s])[:, 0, metric]
    return hit.astype(np.float64), quiet.astype(np.float64)


@pytest.mark.parametrize("key", [str(k) for k in range(6)])
def test_a_memory_leak_takes_at_least_twenty_minutes_to_reach_oom(fleet: Fleet, key: str) -> None:
    leak = _drawn(fleet, "memory_leak", "api-03", key=key)
    assert 20 * 60 <= leak.onset_s <= 180 * 60
    end = START + leak.onset_buckets(3) + 10
    memory, quiet = _series(fleet, leak, "api-03", MEMORY, START, end)
    high = np.flatnonzero(memory >= 95)
    assert high.size
    assert high[0] >= 20 * MINUTE * 0.9  # 95 % only in the last tenth of at least 20 minutes
    assert np.all(np.diff(memory[: high[0]]) > -1)  # a steady climb, no step
    assert memory[: 2 * MINUTE].max() < quiet[: 2 * MINUTE].max() + 5  # hardly moved at first
    kill = np.flatnonzero(np.diff(memory) < -20)
    assert kill.size == 1
    assert kill[0] * 3 >= 20 * 60 - 6


def test_a_disk_fills_over_hours(fleet: Fleet) -> None:
    fill = _drawn(fleet, "disk_full", "db-02")
    assert 3600 <= fill.onset_s <= 12 * 3600
    full = fill.onset_buckets(3)
    disk, _ = _series(fleet, fill, "db-02", DISK, START, START + full + 20)
    errors, quiet = _series(fleet, fill, "db-02", ERROR, START, START + full + 20)
    assert disk[full // 2] < 90
    assert disk[full + 1 :].min() > 99
    assert np.abs(errors[: int(0.9 * full)] - quiet[: int(0.9 * full)]).max() < 1e-3
    assert (errors[full + 1 :] - quiet[full + 1 :]).min() > 5


@pytest.mark.parametrize(
    ("kind", "server", "metric"),
    [
        ("application_crash", "web-03", RPS),
        ("load_balancer_down", "lb-02", RPS),
        ("config_error", "api-02", ERROR),
        ("dns_resolution_failure", "api-02", ERROR),
    ],
)
def test_a_sudden_failure_moves_within_a_bucket(
    fleet: Fleet, kind: str, server: str, metric: int
) -> None:
    assert FAILURE_TYPES[kind].shape is Shape.SUDDEN
    incident = _drawn(fleet, kind, server)
    hit, quiet = _series(fleet, incident, server, metric, START - 5, START + 5)
    assert np.array_equal(hit[:5], quiet[:5])
    full = np.abs(hit[-1] - quiet[-1])
    assert full > 0
    assert np.abs(hit[5] - quiet[5]) >= 0.99 * full  # the start bucket is already at full effect


@pytest.mark.parametrize(
    ("kind", "server", "metric"),
    [
        ("cpu_overload", "api-02", CPU),
        ("database_timeout", "db-02", RESPONSE),
        ("api_failure", "api-02", ERROR),
    ],
)
def test_a_ramp_takes_minutes(fleet: Fleet, kind: str, server: str, metric: int) -> None:
    assert FAILURE_TYPES[kind].shape is Shape.RAMP
    incident = _drawn(fleet, kind, server)
    assert incident.onset_s >= 30
    top = incident.onset_buckets(3)
    hit, quiet = _series(fleet, incident, server, metric, START, START + top + 10)
    gap = np.abs(hit - quiet)
    assert gap[0] < 0.25 * gap[top + 5]
    assert gap[top // 2] < 0.75 * gap[top + 5]
    assert np.all(np.diff(gap[: top + 1]) >= -0.02 * gap[top + 5])  # rising all the way


def test_a_network_failure_comes_in_bursts(fleet: Fleet) -> None:
    incident = _drawn(fleet, "network_failure", "db-02")
    loss, quiet = _series(fleet, incident, "db-02", PACKET_LOSS, START, START + 200)
    excess = loss - quiet
    bursting = excess > 10
    assert 0.3 < bursting.mean() < 0.5
    switches = np.count_nonzero(np.diff(bursting.astype(int)))
    assert switches >= 2 * (200 * 3 // incident.period_s) - 2
    assert excess[~bursting].min() > 0  # some loss remains between bursts


def test_magnitude_orders_how_far_the_key_metric_moves(fleet: Fleet) -> None:
    for kind, server in (
        ("api_failure", "api-02"),
        ("config_error", "api-02"),
        ("cpu_overload", "api-02"),
        ("database_timeout", "db-02"),
        ("security_breach", "api-02"),
    ):
        metric = METRIC_INDEX[FAILURE_TYPES[kind].key_metrics[0]]
        shifts = []
        for magnitude in MAGNITUDES:
            incident = _drawn(fleet, kind, server, magnitude)
            lo = START + incident.onset_buckets(3) + 1
            hit, quiet = _series(fleet, incident, server, metric, lo, lo + 100)
            shifts.append(float(np.median(np.abs(hit - quiet))))
        assert 0 < shifts[0] < shifts[1] < shifts[2], (kind, shifts)
        assert shifts[0] < 0.25 * shifts[2]
    mild = _drawn(fleet, "api_failure", "api-02", "mild")
    lo = START + mild.onset_buckets(3) + 1
    errors, quiet = _series(fleet, mild, "api-02", ERROR, lo, lo + 100)
    assert 1.0 < float(np.median(errors - quiet)) < 8.0  # from well under 1 % to a few %


def test_scheduled_magnitudes_vary_and_injected_ones_are_kept() -> None:
    f = build_fleet(7, 30, epoch_s=EPOCH)
    week = incidents_between(f, 0, 7 * DAY, Overrides())
    assert {i.magnitude for i in week} == set(MAGNITUDES)
    mild = Incident("op", "cpu_overload", (f.index_of("api-02"),), 10, 5, True, "mild")
    truth = ground_truth(f, 0, 20, Overrides(injected=(mild,), failures_enabled=False))
    assert [(e.id, e.magnitude) for e in truth.failures] == [("op", "mild")]


def test_benign_events_are_in_the_truth_and_never_failures(fleet: Fleet) -> None:
    truth = ground_truth(fleet, 0, DAY, Overrides())
    benign = truth.benign
    assert {e.type for e in benign} == set(BENIGN_TYPES)
    assert all(e.recovery == "none" for e in benign)
    failures = {i.id for i in incidents_between(fleet, 0, DAY, Overrides())}
    assert failures == {e.id for e in truth.failures}
    assert not failures & {e.id for e in benign}
    marked = set(np.unique(truth.cells[truth.cells >= 0]).tolist())
    assert {i for i, e in enumerate(truth.events) if e.benign} & marked
    # They happen with failures switched off too, and not at all when switched off.
    assert ground_truth(fleet, 0, DAY, Overrides(failures_enabled=False)).benign
    assert not ground_truth(fleet, 0, DAY, QUIET).events


def test_a_deploy_is_a_blip_of_a_bucket_or_two(fleet: Fleet) -> None:
    deploys = [e for e in ground_truth(fleet, 0, DAY, Overrides()).benign if e.type == "deploy"]
    assert 10 < len(deploys) < 50  # about one an hour
    for e in deploys:
        assert 1 <= e.end_bucket - e.start_bucket <= 2


def test_nightly_batch_jobs_start_at_the_same_local_time_every_day(fleet: Fleet) -> None:
    jobs = [e for e in ground_truth(fleet, 0, 3 * DAY, Overrides()).benign if e.type == "batch_job"]
    assert len(jobs) >= 3 * len(fleet.region_order) - 1
    local = set()
    for e in jobs:
        region = REGIONS[int(fleet.region[e.root])]
        local_s = (EPOCH + e.start_bucket * 3 + REGION_UTC_OFFSET_S[region]) % 86_400
        local.add(local_s // 3)
        assert 3600 <= local_s < 5 * 3600
    assert len(local) == 1
    job = jobs[0]
    alone = replace(job.impact.incident, injected=True)
    cpu, quiet = _series(fleet, alone, fleet.ids[job.root], CPU, job.start_bucket, job.end_bucket)
    assert (cpu - quiet)[-10:].min() > 15


def test_a_traffic_surge_raises_rps_and_cpu_and_nothing_fails(fleet: Fleet) -> None:
    region = fleet.servers_in_region((LOADBALANCER, WEB, API), int(fleet.region[3]))
    surge = Incident("surge", "traffic_surge", tuple(int(s) for s in region), START, 300, True)
    assert 0.5 <= surge.scale <= 1.0
    o = _alone(surge)
    lo, hi = START + surge.onset_buckets(3) + 1, START + 300
    hit = window(fleet, lo, hi, o, servers=list(surge.targets)).astype(np.float64)
    quiet = window(fleet, lo, hi, QUIET, servers=list(surge.targets)).astype(np.float64)
    rps = hit[..., RPS] / quiet[..., RPS]
    assert np.allclose(rps, 1 + surge.scale, rtol=1e-3)
    assert (hit[..., CPU] > quiet[..., CPU]).all()
    assert np.array_equal(hit[..., ERROR], quiet[..., ERROR])
    assert np.array_equal(hit[..., PACKET_LOSS], quiet[..., PACKET_LOSS])


# -- look-alike pairs: one metric moves in both, a second tells them apart ----------------


def _shift(fleet: Fleet, incident: Incident, server: str, metric: int) -> float:
    lo = START + incident.onset_buckets(3) + 5
    hit, quiet = _series(fleet, incident, server, metric, lo, lo + 60)
    return float(np.mean(hit / np.maximum(quiet, 1e-6)))  # mean: bursts count too


def test_cpu_overload_and_a_breach_differ_only_in_egress(fleet: Fleet) -> None:
    overload = _drawn(fleet, "cpu_overload", "api-02", "severe")
    breach = _drawn(fleet, "security_breach", "api-02", "severe")
    assert _shift(fleet, overload, "api-02", CPU) > 1.3
    assert _shift(fleet, breach, "api-02", CPU) > 1.3
    assert _shift(fleet, overload, "api-02", NET_OUT) == 1.0
    assert _shift(fleet, breach, "api-02", NET_OUT) > 1.5


def test_a_database_timeout_and_a_network_failure_differ_only_in_packet_loss(
    fleet: Fleet,
) -> None:
    timeout = _drawn(fleet, "database_timeout", "db-02", "severe")
    network = _drawn(fleet, "network_failure", "db-02", "severe")
    caller = fleet.ids[int(fleet.dependents(fleet.index_of("db-02"))[0])]
    for incident in (timeout, network):
        assert _shift(fleet, incident, "db-02", RESPONSE) > 1.5
        assert _shift(fleet, incident, caller, RESPONSE) > 1.2
    assert _shift(fleet, timeout, "db-02", PACKET_LOSS) == 1.0
    assert _shift(fleet, timeout, "db-02", LATENCY) == 1.0
    network_loss = _series(fleet, network, "db-02", PACKET_LOSS, START, START + 200)
    assert (network_loss[0] - network_loss[1]).max() > 5


def test_an_application_crash_and_its_balancer_down_differ_upstream(fleet: Fleet) -> None:
    web = fleet.index_of("web-03")
    lb = fleet.ids[int(fleet.dependents(web)[0])]
    crash = _drawn(fleet, "application_crash", "web-03")
    down = _drawn(fleet, "load_balancer_down", lb)
    assert web in impact_of(fleet, down, _alone(down)).servers
    for incident in (crash, down):
        assert _shift(fleet, incident, "web-03", RPS) == 0.0  # the web server serves nothing
    # The balancer itself: still serving (and passing errors on) in a crash, dark when down.
    assert _shift(fleet, crash, lb, RPS) == 1.0
    assert _shift(fleet, crash, lb, ERROR) > 2
    assert _shift(fleet, down, lb, RPS) == 0.0


# -- determinism and random access of the answer key --------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    b0=st.integers(-(10**6), 10**8),
    length=st.integers(1, 120),
    pick=st.integers(0, 119),
)
def test_a_bucket_of_truth_alone_equals_it_within_a_range(
    seed: int, b0: int, length: int, pick: int
) -> None:
    f = build_fleet(seed, 20, epoch_s=EPOCH)
    busy = Overrides(failure_rate_per_hour=30.0)
    whole = ground_truth(f, b0, b0 + length, busy)
    again = ground_truth(f, b0, b0 + length, busy)
    assert np.array_equal(whole.cells, again.cells)
    assert whole.events == again.events
    b = b0 + pick % length
    alone = ground_truth(f, b, b + 1, busy)
    ids = [[whole.events[i].id if i >= 0 else None for i in row] for row in whole.cells[b - b0]]
    mine = [[alone.events[i].id if i >= 0 else None for i in row] for row in alone.cells[0]]
    assert ids == mine
    assert np.array_equal(window(f, b, b + 1, busy)[0], window(f, b0, b0 + length, busy)[b - b0])


def test_the_answer_key_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    a = ground_truth(build_fleet(SEED, 30, epoch_s=EPOCH), 0, DAY, Overrides()).events
    b = ground_truth(build_fleet(SEED, 30, epoch_s=EPOCH), 0, DAY, Overrides()).events
    c = ground_truth(build_fleet(SEED + 1, 30, epoch_s=EPOCH), 0, DAY, Overrides()).events
    assert a == b
    assert [(e.type, e.magnitude, e.start_bucket) for e in a] != [
        (e.type, e.magnitude, e.start_bucket) for e in c
    ]
