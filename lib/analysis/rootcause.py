"""Rank the probable root servers of a fleet-wide anomaly.

Three signs point at a root cause, each scaled to [0, 1] and summed with ``RootCauseWeights``:

- *onset*: how early the server's anomaly began, ``1 - (onset - first) / max(last - first, 1)``;
- *upstream*: the share of the other anomalous servers that depend on it, directly or through
  others (a failing db drags down the api and web servers that call it);
- *strength*: how anomalous it is (its peak anomaly score in [0, 1]).

Onset weighs most, but not alone: a dependant's detector can fire a bucket before its
dependency's, and the upstream term then still points at the dependency. Ties rank the
earlier onset, then the lower server index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.analysis.arrays import as_vector
from lib.analysis.topology import upstream_of
from lib.errors import ValidationError

MAX_NAMED = 5


@dataclass(frozen=True)
class RootCauseWeights:
    """Weights of the three signs; they need not sum to 1."""

    onset: float = 0.5
    upstream: float = 0.35
    strength: float = 0.15

    def __post_init__(self) -> None:
        if min(self.onset, self.upstream, self.strength) < 0:
            raise ValidationError("root-cause weights must be >= 0", field="weights")
        if self.onset + self.upstream + self.strength == 0:
            raise ValidationError("at least one root-cause weight must be > 0", field="weights")


DEFAULT_WEIGHTS = RootCauseWeights()


@dataclass(frozen=True)
class RootCandidate:
    """One anomalous server, its score in [0, 1] and why it ranks where it does."""

    server: int
    score: float
    onset_bucket: int
    strength: float
    dependants: tuple[int, ...]
    reason_en: str
    reason_ko: str


def _names(servers: Sequence[int], server_ids: Sequence[str]) -> str:
    named = ", ".join(server_ids[s] for s in servers[:MAX_NAMED])
    more = len(servers) - MAX_NAMED
    return f"{named} (+{more})" if more > 0 else named


def _reasons(
    server: str, onset: int, first: int, strength: float, dependants: str
) -> tuple[str, str]:
    late = onset - first
    if late:
        when_en = f"anomalous from bucket {onset}, {late} after the first"
        when_ko = f"버킷 {onset}부터 이상 (첫 이상보다 {late}버킷 늦음)"
    else:
        when_en = f"first anomaly, at bucket {onset}"
        when_ko = f"버킷 {onset}에 가장 먼저 이상 발생"
    if dependants:
        up_en = f"upstream of {dependants}"
        up_ko = f"{dependants}의 상위 의존 서버"
    else:
        up_en = "no anomalous server depends on it"
        up_ko = "이 서버에 의존하는 이상 서버 없음"
    return (
        f"{server}: {when_en}; {up_en}; strength {strength:.2f}",
        f"{server}: {when_ko}; {up_ko}; 이상 강도 {strength:.2f}",
    )


def rank_root_causes(
    onset: npt.ArrayLike,
    strength: npt.ArrayLike,
    depends_on: Sequence[Sequence[int]],
    server_ids: Sequence[str],
    weights: RootCauseWeights = DEFAULT_WEIGHTS,
) -> list[RootCandidate]:
    """Anomalous servers, most probable root cause first.

    Parameters
    ----------
    onset : int[N]
        Bucket where each server's anomaly began; negative when the server is not anomalous.
    strength : float[N]
        Anomaly strength of each server in [0, 1] (clipped), e.g. its peak score.
    depends_on : sequence of N sequences of int
        For server ``i``, the servers it depends on.
    server_ids : N strings
        Names used in the reasons, e.g. ``"db-01"``.
    weights : RootCauseWeights
        Weights of onset, upstream and strength.

    Returns
    -------
    list of RootCandidate
        One per anomalous server; empty when none is.
    """
    on = as_vector(onset, "onset", np.int64)
    st = np.clip(as_vector(strength, "strength"), 0.0, 1.0)
    n = on.size
    if st.size != n or len(depends_on) != n or len(server_ids) != n:
        raise ValidationError(
            "onset, strength, depends_on and server_ids must all have one entry per server",
            field="onset",
        )
    anomalous = np.flatnonzero(on >= 0)
    if anomalous.size == 0:
        return []
    a_on, a_st = on[anomalous], st[anomalous]
    # reach[i, j]: anomalous server i depends (transitively) on anomalous server j.
    reach = upstream_of(depends_on, anomalous)[:, anomalous]
    np.fill_diagonal(reach, False)
    first, last = int(a_on.min()), int(a_on.max())
    earliness = 1.0 - (a_on - first) / max(last - first, 1)
    upstream = reach.sum(axis=0) / max(anomalous.size - 1, 1)
    score = (weights.onset * earliness + weights.upstream * upstream + weights.strength * a_st) / (
        weights.onset + weights.upstream + weights.strength
    )
    order = np.lexsort((anomalous, a_on, -score))
    ranked = []
    for i in order:
        dependants = tuple(int(s) for s in anomalous[reach[:, i]])
        en, ko = _reasons(
            server_ids[anomalous[i]],
            int(a_on[i]),
            first,
            float(a_st[i]),
            _names(dependants, server_ids),
        )
        ranked.append(
            RootCandidate(
                server=int(anomalous[i]),
                score=float(score[i]),
                onset_bucket=int(a_on[i]),
                strength=float(a_st[i]),
                dependants=dependants,
                reason_en=en,
                reason_ko=ko,
            )
        )
    return ranked
