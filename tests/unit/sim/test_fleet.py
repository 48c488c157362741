"""The fleet: drawn from (seed, size), readable ids, sensible roles, regions, specs, topology."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import NotFound, ValidationError
from lib.sim import REGIONS, ROLES, Fleet, build_fleet
from lib.sim.fleet import role_counts
from lib.sim.roles import API, ARM64, CACHE, DATABASE, LOADBALANCER, QUEUE, WEB
from tests.unit.sim.conftest import EPOCH, SEED

ARRAYS = ("role", "region", "env", "arch", "cores", "memory_gb", "disk_gb", "down_idx", "up_idx")


def _same(a: Fleet, b: Fleet) -> bool:
    return a.ids == b.ids and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ARRAYS)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), size=st.integers(1, 400))
def test_same_seed_same_fleet(seed: int, size: int) -> None:
    a = build_fleet(seed, size, epoch_s=EPOCH)
    assert _same(a, build_fleet(seed, size, epoch_s=EPOCH))
    assert a.size == size == len(set(a.ids))
    assert sum(role_counts(size)) == size


def test_different_seeds_give_different_fleets() -> None:
    a, b = (build_fleet(s, 30, epoch_s=EPOCH) for s in (1, 2))
    assert not _same(a, b)


def test_thirty_servers_have_the_documented_role_mix(fleet: Fleet) -> None:
    counts = Counter(ROLES[r] for r in fleet.role)
    assert [counts[r] for r in ROLES] == [3, 8, 7, 5, 4, 3]
    assert fleet.ids[:4] == ("lb-01", "lb-02", "lb-03", "web-01")
    assert fleet.ids[-1] == "queue-03"


@pytest.mark.parametrize(("size", "last"), [(1, "web-01"), (6, "queue-01"), (100_000, None)])
def test_ids_are_readable_and_zero_padded(size: int, last: str | None) -> None:
    f = build_fleet(SEED, size, epoch_s=EPOCH)
    pattern = re.compile(r"(lb|web|api|db|cache|queue)-(\d{2,})")
    assert all(pattern.fullmatch(i) for i in f.ids)
    if last:
        assert f.ids[-1] == last
    web = [i for i in f.ids if i.startswith("web-")]
    width = max(2, len(str(len(web))))
    assert web[0] == "web-" + "1".zfill(width)
    assert f.index_of(web[-1]) == f.ids.index(web[-1])


def test_index_of_unknown_server_raises_not_found(fleet: Fleet) -> None:
    for bad in ("web-09", "web-1", "db-00", "nope", "lb-01x"):
        with pytest.raises(NotFound):
            fleet.index_of(bad)


@pytest.mark.parametrize("size", [0, 100_001])
def test_size_out_of_range_is_rejected(size: int) -> None:
    with pytest.raises(ValidationError):
        build_fleet(SEED, size, epoch_s=EPOCH)


def test_every_used_region_has_a_complete_chain(fleet: Fleet) -> None:
    used = set(fleet.region.tolist())
    assert len(used) == 3
    for g in used:
        roles = {int(r) for r in fleet.role[fleet.region == g]}
        assert roles == set(range(len(ROLES))), REGIONS[g]


def test_requests_flow_lb_web_api_backends_within_a_region(fleet: Fleet) -> None:
    allowed = {LOADBALANCER: {WEB}, WEB: {API}, API: {DATABASE, CACHE, QUEUE}}
    for i in range(fleet.size):
        deps = fleet.dependencies(i)
        assert {int(fleet.role[d]) for d in deps} <= allowed.get(int(fleet.role[i]), set())
        assert all(fleet.region[d] == fleet.region[i] for d in deps)
        for d in deps:
            assert i in fleet.dependents(int(d))
    for web in fleet.servers_with_roles((WEB,)):
        assert len(fleet.dependents(int(web))) == 1  # exactly one load balancer in front
    for api in fleet.servers_with_roles((API,)):
        assert {int(fleet.role[d]) for d in fleet.dependencies(int(api))} == {
            DATABASE,
            CACHE,
            QUEUE,
        }


def test_large_fleet_mix_of_regions_architectures_environments() -> None:
    f = build_fleet(SEED, 20_000, epoch_s=EPOCH)
    assert set(f.region.tolist()) == set(range(len(REGIONS)))
    assert 0.28 < np.mean(f.arch == ARM64) < 0.32
    shares = np.bincount(f.env, minlength=3) / f.size
    assert abs(shares[0] - 0.7) < 0.02
    assert abs(shares[1] - 0.2) < 0.02
    fan_in = np.diff(f.up_ptr)
    assert fan_in.max() <= 10  # cascades stay small however large the fleet


def test_specs_fit_the_role(big_fleet: Fleet) -> None:
    f = big_fleet

    def median(values: np.ndarray, role: int) -> float:
        return float(np.median(values[f.role == role]))

    assert median(f.memory_gb, DATABASE) > median(f.memory_gb, API) > median(f.memory_gb, WEB)
    assert median(f.memory_gb, CACHE) / median(f.cores, CACHE) == 8
    assert median(f.disk_gb, DATABASE) >= 500 > median(f.disk_gb, LOADBALANCER)
    assert f.cores.min() >= 2


def test_fleet_is_immutable(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match="read-only"):
        fleet.role[0] = 2
    with pytest.raises(AttributeError):
        fleet.seed = 3  # type: ignore[misc]
