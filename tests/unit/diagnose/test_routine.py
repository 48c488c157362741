"""Routine load is not an incident; the failures that look like it still are."""

from __future__ import annotations

import pytest

from lib.diagnose import SIGNATURES, UNKNOWN, Diagnosis, diagnose
from lib.diagnose.routine import BUSY, TRAFFIC, TRANSIENT
from lib.sim import METRIC_INDEX
from tests.unit.diagnose.test_diagnose import IDS, ONSET, observe, only

WEB, API, DB = 1, 3, 4
FOLLOW_REQUESTS = ("rps", "connections", "net_in_mbps", "net_out_mbps")


def load(server: int, factor: float, cpu: float) -> dict[tuple[int, str], float]:
    """``factor`` times the requests and what follows them, CPU ``cpu`` times."""
    return {**{(server, m): factor for m in FOLLOW_REQUESTS}, (server, "cpu_pct"): cpu,
            (server, "load1"): cpu}  # fmt: skip


def incidents(found: tuple[Diagnosis, ...]) -> list[Diagnosis]:
    return [d for d in found if d.is_incident]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_surge_with_healthy_errors_is_routine_traffic(seed: int) -> None:
    moves = load(WEB, 1.9, 1.6) | load(API, 1.9, 1.6) | {(API, "response_ms"): 1.1}
    found = diagnose(observe(moves, ((WEB, "rps"), (API, "rps")), seed=seed))
    assert not incidents(found)
    assert {d.routine for d in found} == {TRAFFIC}
    assert "no incident" in found[0].summary_en
    assert "장애 아님" in found[0].summary_ko


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_region_taking_failover_traffic_is_not_an_incident(seed: int) -> None:
    # A balancer went down elsewhere: this one's requests x1.7, CPU +14 points, responses
    # half as slow again under the load, errors untouched.
    moves = load(0, 1.7, 1.4) | load(WEB, 1.7, 1.4) | {(WEB, "response_ms"): 1.5}
    found = diagnose(observe(moves, ((0, "rps"), (WEB, "rps")), seed=seed))
    assert not incidents(found)
    assert found[0].routine == TRAFFIC


def test_traffic_falling_back_after_a_surge_is_not_a_crash() -> None:
    d = only(observe(load(API, 0.62, 0.7), ((API, "rps"),)))
    assert (d.type, d.routine, d.is_incident) == (UNKNOWN, TRAFFIC, False)


def test_a_nightly_batch_is_busy_not_an_overload_and_the_overload_still_pages() -> None:
    batch = {(DB, "cpu_pct"): 1.9, (DB, "load1"): 2.3, (DB, "disk_pct"): 1.05,
             (DB, "response_ms"): 1.25}  # fmt: skip
    d = only(observe(batch, ((DB, "cpu_pct"),)))
    assert (d.is_incident, d.routine) == (False, BUSY)
    overload = batch | {(DB, "response_ms"): 2.5, (DB, "error_pct"): 6.0}
    o = only(observe(overload, ((DB, "cpu_pct"),)))
    assert (o.type, IDS[o.root], o.is_incident, o.routine) == ("cpu_overload", "db-01", True, None)


def test_a_breach_pages_before_anyone_suffers_and_a_busy_cpu_does_not() -> None:
    breach = {(API, "cpu_pct"): 2.0, (API, "net_out_mbps"): 6.0, (API, "connections"): 2.5,
              (API, "load1"): 2.2}  # fmt: skip
    d = only(observe(breach, ((API, "net_out_mbps"),)))
    assert (d.type, d.is_incident, d.harmful) == ("security_breach", True, False)
    busy = only(observe({(API, "cpu_pct"): 2.0, (API, "load1"): 2.2}, ((API, "cpu_pct"),)))
    assert not busy.is_incident


def test_a_deploy_restart_blip_is_transient_and_a_crash_is_not() -> None:
    obs = observe({}, ((API, "rps"),))
    blip = obs.values.copy()
    for metric, factor in (("rps", 0.1), ("connections", 0.1), ("memory_pct", 0.6)):
        blip[ONSET : ONSET + 2, API, METRIC_INDEX[metric]] *= factor
    d = only(type(obs)(**{**obs.__dict__, "values": blip}))
    assert (d.is_incident, d.routine) == (False, TRANSIENT)
    crash = obs.values.copy()
    for metric in ("rps", "connections", "net_in_mbps", "net_out_mbps", "cpu_pct", "load1"):
        crash[ONSET:, API, METRIC_INDEX[metric]] *= 0.02
    c = next(iter(diagnose(type(obs)(**{**obs.__dict__, "values": crash}))))
    assert c.is_incident
    assert c.type == "application_crash"


def test_a_crash_pages_as_soon_as_the_server_is_dead() -> None:
    # Two buckets in, most of the recent window still looks fine: the dead server is the harm.
    obs = observe({}, ((API, "rps"),))
    values = obs.values.copy()
    for metric in ("rps", "connections", "response_ms", "error_pct"):
        values[-2:, API, METRIC_INDEX[metric]] = 0.0
    for metric, level in (("cpu_pct", 1.0), ("memory_pct", 6.0), ("load1", 0.03)):
        values[-2:, API, METRIC_INDEX[metric]] = level
    alerted = ((API, "rps", obs.bucket - 1),)
    d = only(type(obs)(**{**obs.__dict__, "values": values, "alerted": alerted}))
    assert (d.type, d.harmful, d.is_incident) == ("application_crash", True, True)


def test_only_types_that_fill_or_leak_are_silent() -> None:
    silent = {t for t, sig in SIGNATURES.items() if sig.silent}
    assert silent == {"memory_leak", "disk_full", "cdn_failure", "security_breach"}
