"""Dependency reachability over the fleet topology, for root-cause ranking and alert grouping.

The topology is ``depends_on``: for server ``i``, the servers it calls (web → api, api → db,
cache, queue). Server ``j`` is *upstream* of ``i`` when ``i`` reaches ``j`` by following
``depends_on`` one or more times; a fault upstream can cascade to everything downstream.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError


def dependency_edges(
    depends_on: Sequence[Sequence[int]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Edge arrays ``(dependant, dependency)``, one entry per edge, checked against the fleet."""
    n = len(depends_on)
    counts = np.fromiter((len(d) for d in depends_on), dtype=np.int64, count=n)
    dependant = np.repeat(np.arange(n, dtype=np.int64), counts)
    dependency = np.fromiter(
        itertools.chain.from_iterable(depends_on), dtype=np.int64, count=int(counts.sum())
    )
    if dependency.size and (dependency.min() < 0 or dependency.max() >= n):
        raise ValidationError(f"depends_on names a server outside 0..{n - 1}", field="depends_on")
    return dependant, dependency


def upstream_of(
    depends_on: Sequence[Sequence[int]], sources: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """Which servers each source reaches through its dependencies, itself included.

    Parameters
    ----------
    depends_on : sequence of N sequences of int
        For server ``i``, the servers it depends on.
    sources : int[K]
        Server indices to start from.

    Returns
    -------
    bool[K, N]
        ``reach[k, j]`` is true when ``j == sources[k]`` or ``j`` is upstream of it.
        Cycles are harmless: the propagation stops at a fixed point.
    """
    n = len(depends_on)
    src = np.asarray(sources, dtype=np.int64).reshape(-1)
    if src.size and (src.min() < 0 or src.max() >= n):
        raise ValidationError(f"source server outside 0..{n - 1}", field="sources")
    dependant, dependency = dependency_edges(depends_on)
    reach = np.zeros((n, src.size), dtype=np.bool_)
    reach[src, np.arange(src.size)] = True
    # One pass per level of depth (a handful in a real topology), each vectorised over edges.
    while True:
        grown = reach.copy()
        np.logical_or.at(grown, dependency, reach[dependant])
        if np.array_equal(grown, reach):
            return reach.T.copy()
        reach = grown
