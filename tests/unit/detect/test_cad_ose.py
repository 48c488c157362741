"""The re-implemented CAD OSE: Python 2's hashing and dict order, and NAB's published scores."""

from __future__ import annotations

import numpy as np
import pytest

from tests.bench import cad_ose, nab
from tests.bench.bench_nab import nab_dir

NAB_DIR = nab_dir()


def test_tuple_hashes_are_python_2s() -> None:
    # What Python 2.7 (64-bit), and Python 3 before 3.8, print for hash((1, 2)).
    assert cad_ose._py2_hash((1, 2)) == 3713081631934410656
    assert cad_ose._py2_hash(()) == 0x345678 + 97531


def test_int_dict_iterates_in_python_2s_slot_order() -> None:
    d = cad_ose._Py2IntDict()
    for k in (9, 1, 17, 3):
        d.setdefault(k, k * 10)
    # CPython 2.7's probe in a table of 8: 9 -> slot 1, 1 -> 7, 17 -> 4 (after 1 and 7), 3 -> 3.
    assert d.items() == [(9, 90), (3, 30), (17, 170), (1, 10)]
    assert d.setdefault(9, -1) == 90


def test_int_dict_keeps_every_key_as_it_grows() -> None:
    d = cad_ose._Py2IntDict()
    keys = [(k * 37) % 1000 for k in range(300)]
    for k in keys:
        d.setdefault(k, -k)
    assert sorted(d.items()) == sorted((k, -k) for k in keys)
    assert len(d.slots) > 3 * len(keys) // 2


def test_a_constant_series_scores_without_dividing_by_its_zero_range() -> None:
    s = cad_ose.scores(np.full(400, 7.0))
    assert s.shape == (400,)
    assert np.all((s >= 0.0) & (s <= 1.0))


def test_a_score_at_the_threshold_silences_the_rest_period() -> None:
    pattern = np.tile([1.0, 2.0, 3.0, 2.0], 300)
    x = np.concatenate((pattern, [50.0, 0.0, 50.0, 0.0, 50.0], pattern[:200]))
    s = cad_ose.scores(x)
    rest = nab.probation_rows(len(x)) // 5
    high = np.flatnonzero(s >= cad_ose.BASE_THRESHOLD)
    assert high.size > 0
    for h in high:
        assert np.all(s[h + 1 : h + 1 + rest] == 0.0)


@pytest.mark.skipif(
    not (NAB_DIR / "baselines" / "contextOSE").exists(),
    reason=f"NAB data not found at {NAB_DIR} (set NAB_DIR)",
)
@pytest.mark.parametrize(
    "name", ["iio_us-east-1_i-a2eb1cd9_NetworkIn", "rds_cpu_utilization_e47b3b"]
)
def test_every_row_equals_nabs_published_contextose_score(name: str) -> None:
    files = [f for f in nab.load_corpus(NAB_DIR) if f.name == name]
    (published,) = nab.load_detector(NAB_DIR, "contextOSE", files)
    ours = cad_ose.scores(files[0].values)
    # NAB wrote its scores with Python 2's str(): 12 significant digits.
    np.testing.assert_allclose(ours, published, rtol=1e-11, atol=0.0)
