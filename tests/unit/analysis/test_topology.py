import numpy as np
import pytest

from lib.analysis import dependency_edges, upstream_of
from lib.errors import ValidationError

# 0 web → 1 api → 2 db, 1 api → 3 cache; 4 alone; 5 ↔ 6 a cycle.
DEPS = [[1], [2, 3], [], [], [], [6], [5]]


def test_edges_list_every_dependency():
    dependant, dependency = dependency_edges(DEPS)
    assert list(zip(dependant.tolist(), dependency.tolist(), strict=True)) == [
        (0, 1),
        (1, 2),
        (1, 3),
        (5, 6),
        (6, 5),
    ]


def test_upstream_is_transitive_includes_self_and_survives_cycles():
    reach = upstream_of(DEPS, [0, 2, 5])
    assert np.flatnonzero(reach[0]).tolist() == [0, 1, 2, 3]
    assert np.flatnonzero(reach[1]).tolist() == [2]
    assert np.flatnonzero(reach[2]).tolist() == [5, 6]
    assert upstream_of(DEPS, []).shape == (0, 7)


@pytest.mark.parametrize(("deps", "sources"), [([[3]], [0]), ([[]], [1])])
def test_out_of_range_servers_are_rejected(deps, sources):
    with pytest.raises(ValidationError):
        upstream_of(deps, sources)
