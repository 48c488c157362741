"""The failure catalogue: twelve types, complete data, closed-form time shapes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lib.sim import BENIGN_TYPES, EVENT_TYPES, FAILURE_TYPES, METRICS, ROLES, FailureType
from lib.sim.failures import (
    BURST_FLOOR,
    HOPS,
    MAGNITUDE_SCALES,
    MAGNITUDES,
    Op,
    Reach,
    Shape,
    Wave,
    wave,
)

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
    assert 1 <= failure.onset_s[0] <= failure.onset_s[1]
    assert not failure.benign
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
    longest = max(FAILURE_TYPES.values(), key=lambda t: t.onset_s[1] + t.duration_s[1])
    assert longest.name == "disk_full"


SHAPES = {
    Shape.SUDDEN: {"application_crash", "load_balancer_down", "config_error",
                   "dns_resolution_failure"},
    Shape.RAMP: {"cpu_overload", "database_timeout", "api_failure", "cdn_failure",
                 "security_breach"},
    Shape.GRADUAL: {"memory_leak", "disk_full"},
    Shape.INTERMITTENT: {"network_failure"},
}  # fmt: skip


def test_each_type_has_the_onset_shape_it_has_in_real_life() -> None:
    assert {s: {n for n, t in FAILURE_TYPES.items() if t.shape is s} for s in Shape} == SHAPES
    for failure in FAILURE_TYPES.values():
        lo, hi = failure.onset_s
        if failure.shape is Shape.SUDDEN:
            assert hi <= 3  # within a bucket
        if failure.shape is Shape.RAMP:
            assert 30 <= lo < hi <= 900  # over minutes
    assert FAILURE_TYPES["memory_leak"].onset_s == (20 * 60, 180 * 60)
    assert FAILURE_TYPES["disk_full"].onset_s == (3600, 12 * 3600)


def test_benign_types_are_routine_and_apart_from_failures() -> None:
    assert set(BENIGN_TYPES) == {"deploy", "batch_job", "traffic_surge", "log_rotation"}
    assert set(EVENT_TYPES) == set(FAILURE_TYPES) | set(BENIGN_TYPES)
    assert not set(FAILURE_TYPES) & set(BENIGN_TYPES)
    for benign in BENIGN_TYPES.values():
        assert benign.benign
        assert benign.severity == "info"
        assert benign.recovery.name == "none"
        touched = {METRICS[e.metric] for e in benign.effects_on(Reach.TARGET)}
        assert "error_pct" not in touched  # healthy work: nothing fails
    assert BENIGN_TYPES["deploy"].duration_s[1] <= 6  # a blip of a bucket or two


def test_magnitudes_scale_from_barely_visible_to_the_full_effect() -> None:
    assert MAGNITUDES == ("mild", "moderate", "severe")
    (mild_lo, mild_hi), (mod_lo, mod_hi), (sev_lo, sev_hi) = MAGNITUDE_SCALES
    assert 0 < mild_lo <= mild_hi < mod_lo <= mod_hi < sev_lo <= sev_hi == 1


def test_waves_are_closed_forms_of_elapsed_time() -> None:
    onset_s, period_s = 1500, 90
    e = np.arange(0, 6000, 3, dtype=np.int64)
    for kind in Wave:
        w = wave(kind, e, onset_s, period_s)
        assert w.shape == e.shape
        assert w.min() >= 0
        assert w.max() <= 1
        assert np.array_equal(w, wave(kind, e.copy(), onset_s, period_s))
    leak, oom, gc = (wave(k, e, onset_s, period_s) for k in (Wave.LEAK, Wave.OOM, Wave.GC))
    assert (leak[oom == 1] == 0).all()
    assert np.array_equal(gc, leak * leak)
    assert 0 < oom.mean() < 0.01  # brief OOM kills, one per cycle of onset_s
    first_kill = int(e[np.argmax(oom)])
    assert onset_s - 6 <= first_kill < onset_s
    assert leak[e < first_kill].max() > 0.99
    fill, full = wave(Wave.FILL, e, onset_s, period_s), wave(Wave.FULL, e, onset_s, period_s)
    assert fill[0] == 0
    assert fill[e >= onset_s].min() == 1
    assert (full[e < 0.95 * onset_s] == 0).all()
    assert full[e >= onset_s].min() == 1
    pulse = wave(Wave.PULSE, e, onset_s, period_s)
    assert pulse.min() >= 0.55
    assert pulse.max() == 1
    burst = wave(Wave.BURST, e, onset_s, period_s)
    assert set(np.unique(burst).tolist()) == {BURST_FLOOR, 1.0}
    assert 0.3 < (burst == 1).mean() < 0.5
