"""Incidents, overrides, phases and reach along the topology."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lib.errors import ValidationError
from lib.sim import Fleet, Incident, Overrides, build_fleet, impact_of
from lib.sim.failures import Reach
from lib.sim.incidents import check_targets, settle_buckets
from lib.sim.roles import API, DATABASE, LOADBALANCER, WEB
from lib.sim.truth import truth_events


def _incident(
    fleet: Fleet, kind: str, server: str, start: int = 1000, length: int = 200
) -> Incident:
    """A failure as the seeded schedule would have it (precursor included)."""
    return Incident(f"t-{kind}", kind, (fleet.index_of(server),), start, length)


def test_incident_validates_its_fields() -> None:
    with pytest.raises(ValidationError):
        Incident("a", "meteor_strike", (1,), 0, 10)
    with pytest.raises(ValidationError):
        Incident("a", "cpu_overload", (), 0, 10)
    with pytest.raises(ValidationError):
        Incident("a", "cpu_overload", (1, 1), 0, 10)
    with pytest.raises(ValidationError):
        Incident("a", "cpu_overload", (1,), 0, 0)
    with pytest.raises(ValidationError, match="magnitude"):
        Incident("a", "cpu_overload", (1,), 0, 10, magnitude="apocalyptic")


def test_magnitude_and_shape_are_drawn_from_the_id_unless_given() -> None:
    drawn = {Incident(f"i-{k}", "memory_leak", (1,), 0, 10).magnitude for k in range(60)}
    assert drawn == {"mild", "moderate", "severe"}
    a, b = Incident("same", "disk_full", (1,), 0, 10), Incident("same", "disk_full", (1,), 0, 10)
    assert (a.magnitude, a.onset_s, a.scale, a.period_s) == (
        b.magnitude,
        b.onset_s,
        b.scale,
        b.period_s,
    )
    given = Incident("same", "disk_full", (1,), 0, 10, magnitude="mild")
    assert given.magnitude == "mild"
    assert given.onset_s == a.onset_s  # the shape's draws do not depend on the magnitude
    assert 3600 <= a.onset_s <= 43_200


def test_targets_must_have_a_role_the_type_can_hit(fleet: Fleet) -> None:
    check_targets(fleet, _incident(fleet, "database_timeout", "db-01"))
    with pytest.raises(ValidationError):
        check_targets(fleet, _incident(fleet, "database_timeout", "web-01"))
    with pytest.raises(ValidationError):
        check_targets(fleet, Incident("x", "cpu_overload", (fleet.size,), 0, 5))


def test_overrides_are_values_that_can_key_a_cache() -> None:
    a = Overrides(recovered_at={"x": 5, "y": 7})
    b = Overrides(recovered_at={"y": 7, "x": 5})
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert Overrides() != a
    with pytest.raises(TypeError):
        a.recovered_at["x"] = 1  # type: ignore[index]
    with pytest.raises(ValidationError):
        Overrides(failure_rate_per_hour=-1)
    inc = Incident("dup", "cpu_overload", (3,), 0, 5)
    with pytest.raises(ValidationError):
        Overrides(injected=(inc, inc))


def test_phases_follow_duration_and_recovery(fleet: Fleet) -> None:
    inc = _incident(fleet, "cpu_overload", "api-01")
    natural = impact_of(fleet, inc, Overrides())
    assert natural.first_bucket == 1000 - 30  # 90 s of precursor at 3 s buckets
    assert natural.end_bucket == 1200
    assert not natural.recovered
    assert natural.last_bucket == 1200 + settle_buckets(3) + 1  # callers lag one bucket
    early = impact_of(fleet, inc, Overrides(recovered_at={inc.id: 1050}))
    assert early.end_bucket == 1050
    assert early.recovered
    late = impact_of(fleet, inc, Overrides(recovered_at={inc.id: 5000}))
    assert late.end_bucket == 1200
    assert not late.recovered
    before = impact_of(fleet, inc, Overrides(recovered_at={inc.id: 980}))
    assert before.end_bucket == 1000
    assert before.precursor_end == 980
    assert before.last_bucket == 980


def test_an_operators_drill_has_no_precursor(fleet: Fleet) -> None:
    """It starts when it is made: a precursor would play in buckets already observed."""
    drill = replace(_incident(fleet, "cpu_overload", "api-01"), injected=True)
    impact = impact_of(fleet, drill, Overrides())
    assert impact.first_bucket == impact.precursor_end == 1000
    assert (
        truth_events(fleet, 900, 1100, Overrides(injected=(drill,), failures_enabled=False))[
            0
        ].precursor_bucket
        == 1000
    )


def test_database_timeout_reaches_apis_then_webs(fleet: Fleet) -> None:
    impact = impact_of(fleet, _incident(fleet, "database_timeout", "db-01"), Overrides())
    groups = {g.reach: g for g in impact.groups}
    callers, callers2 = groups[Reach.CALLERS], groups[Reach.CALLERS2]
    assert {fleet.role[s] for s in callers.servers} == {API}
    assert {fleet.role[s] for s in callers2.servers} == {WEB}
    assert callers.lag_buckets == 1
    assert callers2.lag_buckets == 2
    db = fleet.index_of("db-01")
    assert set(callers.servers) == set(fleet.dependents(db).tolist())
    assert set(impact.servers) == {db, *callers.servers, *callers2.servers}


def test_load_balancer_down_starves_its_webs_and_shifts_to_another_region(fleet: Fleet) -> None:
    lb = fleet.index_of("lb-01")
    impact = impact_of(fleet, _incident(fleet, "load_balancer_down", "lb-01"), Overrides())
    groups = {g.reach: g for g in impact.groups}
    assert set(groups[Reach.CALLEES].servers) == set(fleet.dependencies(lb).tolist())
    failover = groups[Reach.FAILOVER].servers
    assert {fleet.role[s] for s in failover} == {LOADBALANCER, WEB}
    assert all(fleet.region[s] != fleet.region[lb] for s in failover)


def test_reach_follows_whatever_chain_a_tiny_fleet_has() -> None:
    tiny = build_fleet(3, 3, epoch_s=0)  # web → api → db, no load balancer
    db = int(tiny.servers_with_roles((DATABASE,))[0])
    impact = impact_of(tiny, Incident("i", "database_timeout", (db,), 0, 10), Overrides())
    assert [len(g.servers) for g in impact.groups] == [1, 1, 1]
    alone = build_fleet(3, 1, epoch_s=0)
    impact = impact_of(alone, Incident("i", "network_failure", (0,), 0, 10), Overrides())
    assert impact.cascade == ()
    assert impact.servers == (0,)
