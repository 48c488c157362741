import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.analysis import (
    IncidentSpan,
    availability,
    availability_from_spans,
    down_fraction,
    error_budget,
    incident_times,
    sla_report,
)
from lib.errors import ValidationError

OK, WARN, CRIT, OFF = 0, 1, 2, 3  # ServerStatus codes


def test_availability_counts_critical_and_offline_as_down():
    status = np.array([[OK, WARN, CRIT], [OK, OFF, OK], [OK, OK, OK], [WARN, OK, OK]])
    result = availability(status)
    assert result.per_server.tolist() == [1.0, 0.75, 0.75]
    assert result.fleet == pytest.approx(2.5 / 3)
    assert down_fraction(status).tolist() == pytest.approx([1 / 3, 1 / 3, 0, 0])


def test_an_empty_period_is_fully_available():
    result = availability(np.zeros((0, 3), np.int8))
    assert result.per_server.tolist() == [1.0, 1.0, 1.0]
    assert result.fleet == 1.0


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        np.int8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=20),
        elements=st.integers(0, 3),
    )
)
def test_availability_is_a_fraction_and_matches_the_mean_down_fraction(status):
    result = availability(status)
    assert ((result.per_server >= 0) & (result.per_server <= 1)).all()
    assert 0.0 <= result.fleet <= 1.0
    if status.size:
        assert result.fleet == pytest.approx(1.0 - down_fraction(status).mean())


def test_spans_merge_overlaps_clip_to_the_period_and_run_to_its_end_while_open():
    spans = [
        IncidentSpan("a", "db_slow", (0,), started_s=100, recovered_s=300),
        IncidentSpan("b", "db_slow", (0, 1), started_s=200, resolved_s=400),
        IncidentSpan("c", "disk_full", (2,), started_s=900),  # still open
        IncidentSpan("d", "old", (1,), started_s=-50, recovered_s=50),
    ]
    result = availability_from_spans(spans, 3, start_s=0, end_s=1000)
    assert result.per_server.tolist() == pytest.approx([0.7, 0.75, 0.9])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1000), st.floats(0, 500)), max_size=12))
def test_span_availability_equals_a_brute_force_timeline(rows):
    spans = [
        IncidentSpan(f"i{k}", "x", (s,), a, recovered_s=a + d) for k, (s, a, d) in enumerate(rows)
    ]
    result = availability_from_spans(spans, 3, 0.0, 1000.0)
    grid = np.linspace(0, 1000, 20001)[:-1] + 0.025
    for server in range(3):
        down = np.zeros(grid.size, bool)
        for s, a, d in rows:
            if s == server:
                down |= (grid >= a) & (grid < a + d)
        assert result.per_server[server] == pytest.approx(1 - down.mean(), abs=2e-4)


def test_sla_report_compares_with_the_target():
    report = sla_report(0.9995, 0.999, period_s=30 * 86400)
    assert report.met
    assert report.allowed_downtime_s == pytest.approx(2592.0)
    assert report.downtime_s == pytest.approx(1296.0)
    assert not sla_report(0.998, 0.999, 86400).met


def test_error_budget_and_burn_rates():
    # One day of 3 s buckets with the last 60 buckets (3 min) down.
    bad = np.zeros(28800)
    bad[-60:] = 1.0
    budget = error_budget(bad, 0.999, 3.0)
    assert budget.budget_s == pytest.approx(86.4)
    assert budget.consumed_s == pytest.approx(180.0)
    assert budget.remaining_s == pytest.approx(-93.6)
    one_hour, six_hours, one_day = budget.burn_rates
    assert one_hour.rate == pytest.approx(180 / 3600 / 0.001)
    assert one_hour.short_rate == pytest.approx(180 / 300 / 0.001)
    assert one_hour.alerting
    assert six_hours.rate == pytest.approx(180 / 21600 / 0.001)
    assert one_day.rate == pytest.approx(180 / 86400 / 0.001)


def test_a_recovered_burn_no_longer_alerts_thanks_to_the_short_window():
    bad = np.zeros(1200)
    bad[:200] = 1.0  # burned early in the hour, fine for the last 50 minutes
    (one_hour, *_) = error_budget(bad, 0.999, 3.0).burn_rates
    assert one_hour.rate > one_hour.threshold
    assert one_hour.short_rate == 0.0
    assert not one_hour.alerting


def test_error_budget_with_no_data_is_zero_not_nan():
    budget = error_budget([], 0.999, 3.0)
    assert budget.consumed_s == budget.budget_s == budget.remaining_fraction == 0.0
    assert all(b.rate == 0.0 and not b.alerting for b in budget.burn_rates)
    with pytest.raises(ValidationError):
        error_budget([0.0], 1.0, 3.0)


def test_incident_times_use_the_documented_timestamps_and_skip_open_incidents():
    spans = [
        IncidentSpan(
            "a", "x", (0,), started_s=0, detected_s=15, acknowledged_s=75, recovered_s=300
        ),
        IncidentSpan("b", "x", (1,), started_s=100, detected_s=109, resolved_s=400),
        IncidentSpan("c", "x", (2,), started_s=200, detected_s=203),  # open
    ]
    times = incident_times(spans)
    assert times.mttd_s == pytest.approx((15 + 9 + 3) / 3)
    assert times.mtta_s == pytest.approx(60.0)
    assert times.mttr_s == pytest.approx((300 + 300) / 2)
    assert (times.n_incidents, times.n_open, times.n_recovered) == (3, 1, 2)


def test_incident_times_without_samples_are_none():
    times = incident_times([IncidentSpan("a", "x", (0,), started_s=0)])
    assert times.mttd_s is times.mtta_s is times.mttr_s is None
    assert times.n_open == 1


def test_timestamps_before_the_start_are_rejected():
    with pytest.raises(ValidationError) as err:
        IncidentSpan("a", "x", (0,), started_s=10, recovered_s=5)
    assert err.value.details["field"] == "recovered_s"
