"""Diagnosis on hand-made series: each look-alike pair told apart, benign load left alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lib.diagnose import UNKNOWN, Diagnosis, Observation, ObservedLog, diagnose
from lib.sim import METRIC_INDEX, METRICS

# lb-01 → web-01, web-02 → api-01 → db-01 (each calls the next); db-02 stands alone.
IDS = ("lb-01", "web-01", "web-02", "api-01", "db-01", "db-02")
ROLES = ("loadbalancer", "web", "web", "api", "database", "database")
DEPENDS = ((1, 2), (3,), (3,), (4,), (), ())
NORMAL = {
    "cpu_pct": 35.0, "memory_pct": 55.0, "disk_pct": 50.0, "net_in_mbps": 100.0,
    "net_out_mbps": 120.0, "net_latency_ms": 2.0, "packet_loss_pct": 0.05,
    "response_ms": 40.0, "rps": 200.0, "error_pct": 0.3, "load1": 2.0, "connections": 300.0,
}  # fmt: skip
# lb-01 stops forwarding: it serves nothing, and web-01 and web-02 behind it lose their traffic.
DARK_BALANCER = {(0, m): f for m, f in (("rps", 0.0), ("connections", 0.0), ("cpu_pct", 0.03),
                 ("net_in_mbps", 0.0), ("net_out_mbps", 0.0), ("response_ms", 0.0),
                 ("error_pct", 0.0), ("load1", 0.02))} | {
                 (w, m): f for w in (1, 2) for m, f in (("rps", 0.0), ("connections", 0.03),
                 ("net_in_mbps", 0.05), ("net_out_mbps", 0.05), ("cpu_pct", 0.35),
                 ("load1", 0.4))}  # fmt: skip
T, ONSET = 400, 380
B0 = 10_000


def series(moves: dict[tuple[int, str], float], *, seed: int = 1) -> np.ndarray:
    """Noisy normal series; from ``ONSET`` each (server, metric) is multiplied by a factor."""
    rng = np.random.default_rng(seed)
    base = np.array([NORMAL[m] for m in METRICS])
    v = base * (1 + 0.02 * rng.standard_normal((T, len(IDS), len(METRICS))))
    for (server, metric), factor in moves.items():
        v[ONSET:, server, METRIC_INDEX[metric]] *= factor
    return v.astype(np.float32)


def observe(
    moves: dict[tuple[int, str], float],
    alerted: tuple[tuple[int, str], ...],
    logs: tuple[ObservedLog, ...] = (),
    *,
    seed: int = 1,
) -> Observation:
    return Observation(
        bucket=B0 + T - 1,
        b0=B0,
        servers=tuple(range(len(IDS))),
        values=series(moves, seed=seed),
        alerted=tuple((s, m, B0 + ONSET + 1) for s, m in alerted),
        root_hint=alerted[0][0],
        roles=ROLES,
        regions=(0,) * len(IDS),
        depends_on=DEPENDS,
        ids=IDS,
        logs=logs,
    )


def only(obs: Observation) -> Diagnosis:
    found = diagnose(obs)
    assert len(found) == 1, [(d.type, IDS[d.root]) for d in found]
    return found[0]


def test_cpu_up_with_egress_is_a_breach_and_without_is_an_overload() -> None:
    overload = only(
        observe(
            {(3, "cpu_pct"): 2.7, (3, "load1"): 4.0, (3, "response_ms"): 4.0,
             (3, "error_pct"): 10.0},
            ((3, "cpu_pct"),),
        )
    )  # fmt: skip
    breach = only(
        observe(
            {(3, "cpu_pct"): 2.0, (3, "net_out_mbps"): 6.0, (3, "connections"): 2.5,
             (3, "load1"): 2.2},
            ((3, "net_out_mbps"),),
        )
    )  # fmt: skip
    assert (overload.type, IDS[overload.root]) == ("cpu_overload", "api-01")
    assert (breach.type, IDS[breach.root]) == ("security_breach", "api-01")
    assert overload.hypotheses[0].type == "cpu_overload"
    assert overload.confidence > 0.5


def test_database_latency_with_packet_loss_is_the_network() -> None:
    timeout = {(4, "response_ms"): 15.0, (4, "connections"): 3.0, (4, "error_pct"): 20.0,
               (3, "response_ms"): 6.0, (3, "error_pct"): 30.0}  # fmt: skip
    network = {(4, "packet_loss_pct"): 400.0, (4, "net_latency_ms"): 30.0,
               (4, "response_ms"): 4.0, (4, "error_pct"): 30.0, (4, "net_in_mbps"): 0.35,
               (4, "net_out_mbps"): 0.35, (3, "response_ms"): 1.8,
               (3, "error_pct"): 10.0}  # fmt: skip
    alerted = ((3, "error_pct"), (4, "response_ms"))
    db = only(observe(timeout, alerted))
    net = only(observe(network, alerted))
    assert (db.type, IDS[db.root]) == ("database_timeout", "db-01")
    assert (net.type, IDS[net.root]) == ("network_failure", "db-01")
    assert 3 in db.affected


def test_a_balancer_down_is_not_a_crash_of_the_web_servers_behind_it() -> None:
    d = only(observe(DARK_BALANCER, ((1, "rps"), (0, "rps"), (2, "rps"))))
    assert (d.type, IDS[d.root]) == ("load_balancer_down", "lb-01")
    assert d.affected == (0, 1, 2)
    crash = {(1, m): f for m, f in (("rps", 0.0), ("connections", 0.0), ("cpu_pct", 0.03),
             ("memory_pct", 0.1), ("net_in_mbps", 0.0), ("net_out_mbps", 0.0),
             ("response_ms", 0.0), ("error_pct", 0.0), ("load1", 0.02))}  # fmt: skip
    c = only(observe(crash | {(0, "error_pct"): 40.0}, ((1, "rps"), (0, "error_pct"))))
    assert (c.type, IDS[c.root]) == ("application_crash", "web-01")


def test_a_breach_behind_a_dark_balancer_is_a_failure_of_its_own() -> None:
    """The balancer's cut explains web-01's lost traffic, not its CPU and its upload: those
    are judged on their own, and the cut's moves do not count against them."""
    # An intruder's work comes on top of what the cut leaves: +38 CPU points, +600 Mbit/s.
    intruder = {(1, "cpu_pct"): 0.35 + 38 / 35, (1, "net_out_mbps"): 0.05 + 600 / 120}
    alerted = ((0, "rps"), (1, "rps"), (2, "rps"), (1, "net_out_mbps"))
    found = diagnose(observe(DARK_BALANCER | intruder, alerted))
    assert {(d.type, IDS[d.root]) for d in found} == {
        ("load_balancer_down", "lb-01"),
        ("security_breach", "web-01"),
    }


@pytest.mark.parametrize(
    ("fill", "climbing", "expected"),
    [(1.04, (), "load_balancer_down"), (1.04, ((1, "disk_pct"),), "disk_full"),
     (1.3, (), "disk_full")],
)  # fmt: skip
def test_a_disk_filling_behind_a_dark_balancer_is_never_a_crash(
    fill: float, climbing: tuple[tuple[int, str], ...], expected: str
) -> None:
    """The balancer's cut makes web-01 look crashed; what is its own is a disk climbing and a
    line saying so. Barely up, it is the balancer's for now, unless the trend watch found it
    climbing steadily; well up, a fill."""
    line = ObservedLog(B0 + ONSET + 2, 1, "WARN", "kernel", "filesystem /var growing: 91% used")
    alerted = ((0, "rps"), (1, "rps"), (2, "rps"), (1, "disk_pct"))
    obs = observe(DARK_BALANCER | {(1, "disk_pct"): fill}, alerted, (line,))
    found = diagnose(replace(obs, climbing=climbing))
    web01 = next(d for d in found if 1 in d.affected)
    assert web01.type == expected
    assert "application_crash" not in {d.type for d in found}


def test_two_failures_in_one_group_are_two_diagnoses() -> None:
    moves = {(4, "disk_pct"): 1.95, (4, "error_pct"): 25.0, (4, "response_ms"): 2.5,
             (5, "packet_loss_pct"): 400.0, (5, "net_latency_ms"): 30.0,
             (5, "response_ms"): 4.0, (5, "error_pct"): 30.0}  # fmt: skip
    found = diagnose(observe(moves, ((4, "disk_pct"), (5, "packet_loss_pct"))))
    assert {(d.type, IDS[d.root]) for d in found} == {
        ("disk_full", "db-01"),
        ("network_failure", "db-02"),
    }


def test_a_caller_whose_own_logs_name_another_failure_is_not_absorbed() -> None:
    """A balancer with a bad config in front of a web server whose DNS fails: the cascade
    would explain the balancer's errors, but its own lines name its own failure."""
    dns = ObservedLog(B0 + ONSET + 2, 1, "ERROR", "node", "getaddrinfo EAI_AGAIN db.internal")
    config = ObservedLog(
        B0 + ONSET + 2, 0, "ERROR", "haproxy", "invalid configuration: missing key 'pool'"
    )
    moves = {(1, "error_pct"): 40.0, (1, "response_ms"): 4.0, (0, "error_pct"): 40.0,
             (0, "response_ms"): 1.5}  # fmt: skip
    alerted = ((1, "error_pct"), (0, "error_pct"))
    found = diagnose(observe(moves, alerted, (dns, config)))
    assert {(d.type, IDS[d.root]) for d in found} == {
        ("dns_resolution_failure", "web-01"),
        ("config_error", "lb-01"),
    }
    # Without its own lines the balancer's errors are the cascade's.
    (alone,) = diagnose(observe(moves, alerted, (dns,)))
    assert (alone.type, IDS[alone.root], alone.affected) == (
        "dns_resolution_failure",
        "web-01",
        (0, 1),
    )


def test_a_traffic_surge_is_not_an_incident() -> None:
    surge = {(s, m): f for s in (1, 2) for m, f in (("rps", 1.8), ("cpu_pct", 1.5),
             ("connections", 1.7), ("net_in_mbps", 1.8), ("net_out_mbps", 1.8),
             ("load1", 1.5))}  # fmt: skip
    found = diagnose(observe(surge, ((1, "rps"), (2, "rps"))))
    assert found
    assert not any(d.is_incident for d in found)


def test_harm_that_matches_no_signature_is_an_unknown_incident() -> None:
    d = only(observe({(5, "memory_pct"): 0.5, (5, "error_pct"): 40.0}, ((5, "error_pct"),)))
    assert d.type == UNKNOWN
    assert d.is_incident


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_log_lines_break_a_tie_and_are_cited(seed: int) -> None:
    line = ObservedLog(B0 + ONSET + 2, 3, "ERROR", "java", "getaddrinfo EAI_AGAIN db.internal")
    moves = {(3, "error_pct"): 40.0, (3, "response_ms"): 4.0}
    d = only(observe(moves, ((3, "error_pct"),), (line,), seed=seed))
    assert d.type == "dns_resolution_failure"
    assert line in d.log_lines
    assert "getaddrinfo" in d.summary_en
    assert "DNS 해석 실패" in d.summary_ko


def test_the_evidence_is_ordered_and_serialisable() -> None:
    d = only(
        observe(
            {(3, "cpu_pct"): 2.7, (3, "load1"): 4.0, (3, "response_ms"): 4.0},
            ((3, "cpu_pct"),),
        )
    )
    data = d.to_dict(IDS)
    assert data["root_server"] == "api-01"
    metrics = data["evidence"]["metrics"]
    assert {m["metric"] for m in metrics} >= {"cpu_pct", "load1", "response_ms"}
    onsets = [m["onset_bucket"] for m in metrics if m["onset_bucket"] >= 0]
    assert onsets == sorted(onsets)
    assert abs(d.onset_bucket - (B0 + ONSET)) <= 2
