"""The failure catalogue: twelve types, complete data, closed-form time shapes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lib.sim import FAILURE_TYPES, METRICS, ROLES, FailureType
from lib.sim.failures import HOPS, Op, Reach, Wave, wave

EXPECTED = {
    "hardware": {"cpu_overload", "memory_leak", "disk_full", "network_failure"},
    "software": {"application_crash", "database_timeout", "api_failure", "config_error"},
    "infrastructure": {
        "load_balancer_down", "cdn_failure", "dns_resolution_failure", "security_breach",
    },
}  # fmt: skip


def test_twelve_types_four_per_category() -> None:
    by_category = {c: {n for n, t in FAILURE_TYPES.items() if t.category == c} for c in EXPECTED}
    assert by_category == EXPECTED


@pytest.mark.parametrize("failure", FAILURE_TYPES.values(), ids=list(FAILURE_TYPES))
def test_every_entry_is_complete(failure: FailureType) -> None:
    assert set(failure.target_roles) <= set(ROLES)
    assert failure.target_roles
    assert set(failure.key_metrics) <= set(METRICS)
    assert failure.key_metrics
    assert failure.severity in {"warning", "error", "critical"}
    assert failure.recovery.name.isidentifier()
    assert failure.recovery.description_en
    assert failure.recovery.description_ko
    assert failure.description_en.isascii()
    assert not failure.description_ko.isascii()
    lo, hi = failure.duration_s
    assert 120 <= lo < hi <= 5400
    assert 1 <= failure.targets[0] <= failure.targets[1] <= 3
    assert 0 < failure.onset <= 1
    assert failure.reaches[0] is Reach.TARGET
    assert set(failure.reaches) <= set(HOPS)
    touched = {METRICS[e.metric] for e in failure.effects_on(Reach.TARGET)}
    assert set(failure.key_metrics) <= touched
    assert bool(failure.precursor) == (failure.precursor_s > 0)


def test_recovery_strategies_are_varied() -> None:
    names = Counter(t.recovery.name for t in FAILURE_TYPES.values())
    assert len(names) >= 10
    assert {"scale_up", "restart_service", "cleanup_logs", "switch_backup_network",
            "rollback_config", "failover", "purge_cdn", "flush_dns",
            "isolate_and_rotate_credentials"} <= set(names)  # fmt: skip


def test_precursors_are_mild() -> None:
    for failure in FAILURE_TYPES.values():
        for effect in failure.precursor:
            assert effect.op is not Op.SET
            assert effect.value <= 9 if effect.op is Op.ADD else effect.value <= 1.6


def test_disk_full_may_last_longest() -> None:
    longest = max(FAILURE_TYPES.values(), key=lambda t: t.duration_s[1])
    assert longest.name == "disk_full"


def test_waves_are_closed_forms_of_elapsed_time() -> None:
    e = np.arange(0, 3000, 3, dtype=np.int64)
    for kind in Wave:
        w = wave(kind, e)
        assert w.shape == e.shape
        assert w.min() >= 0
        assert w.max() <= 1
        assert np.array_equal(w, wave(kind, e.copy()))
    leak, oom, running = (wave(k, e) for k in (Wave.LEAK, Wave.OOM, Wave.RUNNING))
    assert np.array_equal(oom + running, np.ones_like(oom))
    assert (leak[running == 1] >= 0.82).all()
    assert (leak[oom == 1] == 0).all()
    assert 0 < oom.mean() < 0.1  # brief OOM kills, repeating
    assert wave(Wave.FILL, np.array([0]))[0] == 0.9
    assert wave(Wave.FILL, np.array([600]))[0] == 1
    pulse = wave(Wave.PULSE, e)
    assert pulse.min() >= 0.55
    assert pulse.max() == 1
