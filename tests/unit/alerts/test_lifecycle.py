"""The vectorised alert state machine against a per-series reference written from the docs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.alerts import (
    AlertBook,
    AlertParams,
    AlertState,
    Level,
    Transition,
    acknowledge,
    resolve_manually,
    step,
    step_many,
)
from lib.errors import Conflict, ValidationError

P = AlertParams(enter_score=0.7, exit_score=0.4, for_buckets=2, clear_buckets=3)


@dataclass
class Ref:
    """One series, advanced bucket by bucket exactly as lib/alerts/levels+lifecycle describe."""

    state: int = AlertState.INACTIVE
    level: int = 0
    since: int = -1
    started: int = -1
    fired: int = -1
    hot_run: int = 0
    cool_run: int = 0
    crit_run: int = 0
    peak: float = 0.0

    def step(self, s: int, score: float, dl: int, off: bool, failed: bool, b: int, p: AlertParams):
        score = min(max(score, 0.0), 1.0)
        hot = dl >= 1 or score >= p.enter_score
        cool = dl == 0 and score < p.exit_score and not off
        self.hot_run = self.hot_run + 1 if hot else 0
        self.cool_run = self.cool_run + 1 if cool else 0
        self.crit_run = self.crit_run + 1 if dl >= 2 else 0
        obs = 0
        if hot:
            obs = Level.WARNING
        if dl >= 2:
            obs = Level.ERROR
        if self.crit_run >= p.critical_after_buckets or off or failed:
            obs = Level.CRITICAL
        before = (self.state, self.level, self.started, self.fired)
        if self.state in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
            if self.cool_run >= p.clear_buckets:
                self.state = AlertState.RESOLVED
            else:
                self.level = max(self.level, obs)
                self.peak = max(self.peak, float(np.float32(score)))
        elif self.state == AlertState.PENDING:
            if hot:
                self.level = max(self.level, obs)
                self.peak = max(self.peak, float(np.float32(score)))
                if self.hot_run >= p.for_buckets:
                    self.state, self.fired = AlertState.FIRING, b
            else:
                self.state, self.level, self.peak = AlertState.INACTIVE, 0, 0.0
                self.started = self.fired = -1
        elif hot:
            self.level, self.peak, self.started, self.fired = obs, float(np.float32(score)), b, -1
            self.state = AlertState.PENDING
            if self.hot_run >= p.for_buckets:
                self.state, self.fired = AlertState.FIRING, b
        out = []
        escalated = self.state == before[0] and self.level > before[1]
        if self.state != before[0] or (escalated and self.state in (2, 3)):
            lapsed = self.state == AlertState.INACTIVE
            out.append(
                Transition(
                    series=s,
                    from_state=AlertState(before[0]),
                    to_state=AlertState(self.state),
                    level=Level(before[1] if lapsed else self.level),
                    bucket=b,
                    score=score,
                    started_bucket=before[2] if lapsed else self.started,
                    fired_bucket=before[3] if lapsed else self.fired,
                )
            )
            if self.state != before[0]:
                self.since = b
        return out


def ref_book(refs: list[Ref], bucket: int) -> AlertBook:
    return AlertBook(
        bucket=bucket,
        state=[r.state for r in refs],
        level=[r.level for r in refs],
        since_bucket=[r.since for r in refs],
        started_bucket=[r.started for r in refs],
        fired_bucket=[r.fired for r in refs],
        hot_run=[r.hot_run for r in refs],
        cool_run=[r.cool_run for r in refs],
        critical_run=[r.crit_run for r in refs],
        peak_score=[r.peak for r in refs],
    )


def run_ref(p, scores, levels, offline, failed, b0=0):
    refs = [Ref() for _ in range(scores.shape[1])]
    transitions = []
    for t in range(scores.shape[0]):
        for s, r in enumerate(refs):
            transitions += r.step(
                s, scores[t, s], levels[t, s], offline[t, s], failed[t, s], b0 + t, p
            )
    return ref_book(refs, b0 + scores.shape[0] - 1), transitions


params_st = st.builds(
    AlertParams,
    enter_score=st.sampled_from([0.6, 0.7]),
    exit_score=st.sampled_from([0.3, 0.4]),
    for_buckets=st.integers(1, 3),
    clear_buckets=st.integers(1, 4),
    critical_after_buckets=st.integers(1, 4),
)


@st.composite
def observations(draw, max_t=40, max_s=4):
    t = draw(st.integers(1, max_t))
    s = draw(st.integers(1, max_s))
    # Values on and around both thresholds, so every boundary is crossed.
    scores = draw(
        hnp.arrays(
            np.float64, (t, s), elements=st.sampled_from([0.0, 0.3, 0.35, 0.4, 0.6, 0.7, 1.0])
        )
    )
    levels = draw(hnp.arrays(np.int8, (t, s), elements=st.sampled_from([0, 0, 0, 0, 1, 2])))
    offline = draw(hnp.arrays(np.bool_, (t, s), elements=st.sampled_from([False] * 7 + [True])))
    failed = draw(hnp.arrays(np.bool_, (t, s), elements=st.sampled_from([False] * 9 + [True])))
    return scores, levels, offline, failed


@settings(max_examples=150, deadline=None)
@given(params_st, observations())
def test_step_many_matches_the_reference(p, obs):
    scores, levels, offline, failed = obs
    book, transitions = step_many(
        AlertBook.empty(scores.shape[1]),
        scores,
        levels,
        0,
        p,
        offline=offline,
        recovery_failed=failed,
    )
    want_book, want_transitions = run_ref(p, scores, levels, offline, failed)
    assert book == want_book
    assert transitions == want_transitions


@settings(max_examples=100, deadline=None)
@given(params_st, observations(), st.data())
def test_step_many_equals_repeated_step_with_operator_actions(p, obs, data):
    scores, levels, offline, failed = obs
    t_len, n = scores.shape
    cuts = sorted(data.draw(st.sets(st.integers(1, t_len - 1), max_size=4)) if t_len > 1 else [])
    whole, whole_tr = step_many(
        AlertBook.empty(n, bucket=9), scores, levels, 10, p, offline=offline, recovery_failed=failed
    )
    one, one_tr = AlertBook.empty(n, bucket=9), []
    for t in range(t_len):
        one, found = step(
            one, scores[t], levels[t], 10 + t, p, offline=offline[t], recovery_failed=failed[t]
        )
        one_tr += found
    chunked, chunk_tr = AlertBook.empty(n, bucket=9), []
    for lo, hi in zip([0, *cuts], [*cuts, t_len], strict=True):
        chunked, found = step_many(
            chunked,
            scores[lo:hi],
            levels[lo:hi],
            10 + lo,
            p,
            offline=offline[lo:hi],
            recovery_failed=failed[lo:hi],
        )
        chunk_tr += found
    assert one == whole == chunked
    assert one_tr == whole_tr == chunk_tr


@settings(max_examples=60, deadline=None)
@given(params_st, observations(max_t=30, max_s=3), st.data())
def test_operator_actions_between_buckets_match_the_reference(p, obs, data):
    scores, levels, offline, failed = obs
    t_len, n = scores.shape
    book = AlertBook.empty(n)
    refs = [Ref() for _ in range(n)]
    for t in range(t_len):
        book, got = step(
            book, scores[t], levels[t], t, p, offline=offline[t], recovery_failed=failed[t]
        )
        want = []
        for s, r in enumerate(refs):
            want += r.step(s, scores[t, s], levels[t, s], offline[t, s], failed[t, s], t, p)
        assert got == want
        action = data.draw(st.sampled_from([None, None, "ack", "resolve"]))
        s = data.draw(st.integers(0, n - 1))
        if action and refs[s].state in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
            if action == "ack":
                book, _ = acknowledge(book, s, t)
                if refs[s].state == AlertState.FIRING:
                    refs[s].state, refs[s].since = AlertState.ACKNOWLEDGED, t
            else:
                book, _ = resolve_manually(book, s, t)
                refs[s].state, refs[s].since = AlertState.RESOLVED, t
                refs[s].hot_run = refs[s].cool_run = refs[s].crit_run = 0
        assert book == ref_book(refs, t)


def single(values, levels=None, p=P, offline=None):
    scores = np.asarray(values, dtype=np.float64)[:, None]
    lv = np.zeros_like(scores, dtype=np.int8) if levels is None else np.asarray(levels)[:, None]
    off = None if offline is None else np.asarray(offline)[:, None]
    return step_many(AlertBook.empty(1), scores, lv, 0, p, offline=off)


@settings(max_examples=80, deadline=None)
@given(
    for_buckets=st.integers(1, 6),
    quiet=st.integers(0, 20),
    length=st.integers(1, 60),
    score=st.floats(0.7, 1.0),
)
def test_a_sustained_anomaly_fires_exactly_once_after_for_buckets(
    for_buckets, quiet, length, score
):
    p = AlertParams(for_buckets=for_buckets)
    _, transitions = single([0.0] * quiet + [score] * length, p=p)
    fired = [t for t in transitions if t.kind == "fired"]
    if length < for_buckets:
        assert fired == []
    else:
        assert [t.bucket for t in fired] == [quiet + for_buckets - 1]
        assert fired[0].started_bucket == quiet


@settings(max_examples=80, deadline=None)
@given(clear=st.integers(1, 8), tail=st.integers(0, 20), low=st.floats(0.0, 0.399))
def test_resolves_after_clear_buckets_of_cool(clear, tail, low):
    p = AlertParams(clear_buckets=clear)
    book, transitions = single([0.9] * 5 + [low] * tail, p=p)
    resolved = [t.bucket for t in transitions if t.kind == "resolved"]
    if tail >= clear:
        assert resolved == [5 + clear - 1]
        assert book.state[0] == AlertState.RESOLVED
    else:
        assert resolved == []
        assert book.state[0] == AlertState.FIRING


@settings(max_examples=100, deadline=None)
@given(
    high=st.floats(0.7, 1.0),
    low=st.floats(0.4, 0.699),
    periods=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=1, max_size=15),
    for_buckets=st.integers(1, 3),
)
def test_no_flapping_inside_the_hysteresis_gap(high, low, periods, for_buckets):
    values = [v for up, down in periods for v in [high] * up + [low] * down]
    p = AlertParams(for_buckets=for_buckets, clear_buckets=1)
    _, transitions = single(values, p=p)
    assert sum(t.kind == "fired" for t in transitions) <= 1
    assert not any(t.kind == "resolved" for t in transitions)


def test_level_escalates_to_critical_when_critical_is_sustained_and_never_steps_down():
    p = AlertParams(critical_after_buckets=3)
    levels = [1, 1, 2, 2, 2, 1, 1]
    _, transitions = single([0.8] * 7, levels=levels, p=p)
    assert [(t.kind, t.level, t.bucket) for t in transitions] == [
        ("pending", Level.WARNING, 0),
        ("fired", Level.WARNING, 1),
        ("escalated", Level.ERROR, 2),
        ("escalated", Level.CRITICAL, 4),
    ]


def test_an_offline_server_makes_its_open_alert_critical_and_keeps_it_open():
    offline = [False, False, True, True, True, True]
    book, transitions = single([0.9, 0.9, 0.0, 0.0, 0.0, 0.0], offline=offline)
    assert transitions[-1].kind == "escalated"
    assert transitions[-1].level == Level.CRITICAL
    assert book.state[0] == AlertState.FIRING


def test_a_failed_recovery_escalates_an_open_alert_only():
    scores = np.array([[0.9, 0.0], [0.9, 0.0], [0.9, 0.0]])
    failed = np.array([[False, False], [False, False], [True, True]])
    book, transitions = step_many(
        AlertBook.empty(2), scores, np.zeros((3, 2), np.int8), 0, P, recovery_failed=failed
    )
    assert book.level.tolist() == [Level.CRITICAL, 0]
    assert transitions[-1].kind == "escalated"


def test_a_bucket_is_processed_once():
    book, _ = single([0.9, 0.9])
    with pytest.raises(Conflict):
        step(book, [0.1], [0], 1, P)


@pytest.mark.parametrize(
    ("scores", "levels"),
    [
        (np.zeros((2, 3)), np.zeros((2, 3), np.int8)),
        (np.full((1, 1), np.nan), np.zeros((1, 1), np.int8)),
        (np.zeros((1, 1)), np.full((1, 1), 3, np.int8)),
    ],
)
def test_malformed_observations_are_rejected(scores, levels):
    with pytest.raises(ValidationError):
        step_many(AlertBook.empty(1), scores, levels, 0)


def test_params_need_a_hysteresis_gap():
    with pytest.raises(ValidationError):
        AlertParams(enter_score=0.5, exit_score=0.5)
    with pytest.raises(ValidationError):
        AlertParams(for_buckets=0)


def test_an_empty_window_changes_nothing():
    book = AlertBook.empty(3)
    assert step_many(book, np.zeros((0, 3)), np.zeros((0, 3), np.int8), 0) == (book, [])


def test_a_window_larger_than_one_chunk_equals_separate_calls():
    # 3000 series: the window is processed in chunks of 349 buckets internally.
    rng = np.random.default_rng(7)
    scores = np.where(rng.random((800, 3000)) < 0.003, 0.9, rng.choice([0.1, 0.5], (800, 3000)))
    levels = np.where(rng.random(scores.shape) < 0.001, 2, 0).astype(np.int8)
    whole = step_many(AlertBook.empty(3000), scores, levels, 0, P)
    first = step_many(AlertBook.empty(3000), scores[:500], levels[:500], 0, P)
    second = step_many(first[0], scores[500:], levels[500:], 500, P)
    assert whole == (second[0], first[1] + second[1])
