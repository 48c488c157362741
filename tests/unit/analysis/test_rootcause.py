import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.analysis import RootCauseWeights, rank_root_causes
from lib.errors import ValidationError

IDS = ["web-01", "web-02", "api-01", "db-01", "cache-01", "batch-01"]
DEPS = [[2], [2], [3, 4], [], [], []]
NONE = -1


def test_the_dependency_wins_even_when_a_dependant_fired_a_bucket_earlier():
    onset = [105, 106, 99, 100, NONE, NONE]
    strength = [0.5, 0.5, 0.6, 0.9, 0.0, 0.0]
    ranked = rank_root_causes(onset, strength, DEPS, IDS)
    assert [c.server for c in ranked] == [3, 2, 0, 1]
    top = ranked[0]
    assert top.dependants == (0, 1, 2)
    assert top.reason_en == (
        "db-01: anomalous from bucket 100, 1 after the first; "
        "upstream of web-01, web-02, api-01; strength 0.90"
    )
    assert "web-01, web-02, api-01의 상위 의존 서버" in top.reason_ko
    assert ranked[-1].reason_en.endswith("no anomalous server depends on it; strength 0.50")


def test_no_anomaly_no_candidates():
    assert rank_root_causes([NONE] * 6, [0.0] * 6, DEPS, IDS) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 20), st.floats(-1, 2)), min_size=6, max_size=6))
def test_scores_are_bounded_and_sorted(rows):
    onset = [o for o, _ in rows]
    ranked = rank_root_causes(onset, [s for _, s in rows], DEPS, IDS)
    assert {c.server for c in ranked} == {i for i, o in enumerate(onset) if o >= 0}
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_a_lone_earliest_anomaly_ranks_first_on_onset_alone():
    ranked = rank_root_causes(
        [NONE, NONE, NONE, NONE, 50, 10],
        [0, 0, 0, 0, 1.0, 0.1],
        DEPS,
        IDS,
        weights=RootCauseWeights(onset=1.0, upstream=0.0, strength=0.0),
    )
    assert ranked[0].server == 5
    assert ranked[0].reason_en.startswith("batch-01: first anomaly, at bucket 10")


def test_inputs_are_checked():
    with pytest.raises(ValidationError):
        rank_root_causes([1, 2], [0.1], DEPS, IDS)
    with pytest.raises(ValidationError):
        RootCauseWeights(onset=-1.0)
    with pytest.raises(ValidationError):
        rank_root_causes(np.zeros(6), [np.nan] * 6, DEPS, IDS)
