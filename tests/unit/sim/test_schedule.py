"""The seeded schedule: local in time, deterministic, varied, unambiguous, merged."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.sim import FAILURE_TYPES, Fleet, Incident, Overrides, impact_of, incidents_between, window
from lib.sim.incidents import precursor_buckets
from lib.sim.schedule import impacts_between
from tests.unit.sim.conftest import DAY, QUIET

WEEK = 7 * DAY
BUSY = Overrides(failure_rate_per_hour=20.0)


def _active_at(fleet: Fleet, bucket: int, overrides: Overrides) -> set[str]:
    return {
        i.incident.id
        for i in impacts_between(fleet, bucket - 3000, bucket + 3000, overrides)
        if i.first_bucket <= bucket < i.last_bucket
    }


@settings(max_examples=30, deadline=None)
@given(bucket=st.integers(-(10**7), 10**9))
def test_what_is_active_at_a_bucket_does_not_depend_on_the_range_asked(
    fleet: Fleet, bucket: int
) -> None:
    here = {i.id for i in incidents_between(fleet, bucket, bucket + 1, BUSY)}
    assert here == _active_at(fleet, bucket, BUSY)


def test_the_schedule_is_deterministic(fleet: Fleet) -> None:
    assert incidents_between(fleet, 0, DAY, Overrides()) == incidents_between(
        fleet, 0, DAY, Overrides()
    )


def test_one_to_two_incidents_an_hour_of_every_type_and_magnitude(fleet: Fleet) -> None:
    week = incidents_between(fleet, 0, WEEK, Overrides())
    # Two candidates an hour; hours-long leaks and disk fills block the servers they reach.
    assert 1.0 * 24 * 7 < len(week) <= 2.2 * 24 * 7
    assert set(Counter(i.type for i in week)) == set(FAILURE_TYPES)
    magnitudes = Counter(i.magnitude for i in week)
    assert set(magnitudes) == {"mild", "moderate", "severe"}
    assert min(magnitudes.values()) > 0.2 * len(week)
    for inc in week:
        assert re.fullmatch(r"inc--?\d+-\d+", inc.id)
        assert not inc.injected
        assert not inc.benign
        lo, hi = FAILURE_TYPES[inc.type].duration_s
        assert lo <= inc.duration_buckets * 3 - inc.onset_s <= hi + 3
        fewest, most = FAILURE_TYPES[inc.type].targets
        assert fewest <= len(inc.targets) <= most


def test_the_rate_is_configurable(fleet: Fleet) -> None:
    assert incidents_between(fleet, 0, DAY, QUIET) == ()
    assert incidents_between(fleet, 0, DAY, Overrides(failure_rate_per_hour=0.0)) == ()
    few = len(incidents_between(fleet, 0, DAY, Overrides(failure_rate_per_hour=0.5)))
    many = len(incidents_between(fleet, 0, DAY, Overrides(failure_rate_per_hour=4.0)))
    assert 0 < few < many


def test_scheduled_incidents_never_share_a_server_at_the_same_time(fleet: Fleet) -> None:
    impacts = impacts_between(fleet, 0, WEEK, BUSY)
    assert len(impacts) > 30  # the overlap rule thins out a busy schedule
    for i, a in enumerate(impacts):
        for b in impacts[i + 1 :]:
            if b.first_bucket >= a.last_bucket:
                continue
            assert a.last_bucket <= b.first_bucket or not set(a.servers) & set(b.servers)


def test_injected_incidents_are_merged_and_win_over_later_scheduled_ones(fleet: Fleet) -> None:
    scheduled = incidents_between(fleet, 0, DAY, Overrides())
    victim = scheduled[3]
    first = victim.start_bucket - precursor_buckets(victim.failure, fleet.bucket_seconds)
    injected = Incident("ops-1", victim.type, victim.targets, first - 5, 400, injected=True)
    merged = incidents_between(fleet, 0, DAY, Overrides(injected=(injected,)))
    ids = [i.id for i in merged]
    assert "ops-1" in ids
    assert victim.id not in ids
    assert [i.start_bucket for i in merged] == sorted(i.start_bucket for i in merged)
    quiet = incidents_between(
        fleet, 0, DAY, Overrides(injected=(injected,), failures_enabled=False, benign_enabled=False)
    )
    assert quiet == (injected,)


def test_a_drill_never_removes_a_failure_already_observed(fleet: Fleet) -> None:
    """A scheduled failure whose precursor already played when a drill arrives on its server
    used to be dropped for the drill: its precursor vanished from buckets already observed."""
    scheduled = incidents_between(fleet, 0, DAY, Overrides())
    early = next(i for i in scheduled if precursor_buckets(i.failure, fleet.bucket_seconds) > 2)
    drill = Incident(
        "ops-1", "application_crash", early.targets, early.start_bucket - 1, 400, injected=True
    )
    past = (early.start_bucket - 100, drill.start_bucket)
    np.testing.assert_array_equal(
        window(fleet, *past, Overrides(injected=(drill,))), window(fleet, *past, Overrides())
    )
    assert early.id in {i.id for i in incidents_between(fleet, 0, DAY, Overrides((drill,)))}


def test_recovery_shortens_but_never_reshuffles_the_schedule(fleet: Fleet) -> None:
    scheduled = incidents_between(fleet, 0, DAY, Overrides())
    recovered = Overrides(recovered_at={i.id: i.start_bucket + 5 for i in scheduled})
    assert incidents_between(fleet, 0, DAY, recovered) == scheduled
    for inc in scheduled:
        assert impact_of(fleet, inc, recovered).end_bucket == inc.start_bucket + min(
            5, inc.duration_buckets
        )
