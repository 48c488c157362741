"""CAD OSE, a published NAB detector, re-implemented so that it can be run on series that have
no published results (the generated sets of ``bench_synthetic``).

CAD OSE (Contextual Anomaly Detector, Open Source Edition; M. Smirnov, 2016) is NAB's
``contextOSE``: 69.9 on the whole of NAB, 72.09 on its AWS files. Each value is binned into
eight levels of the file's range, written as three bit-facts. The detector remembers
"contexts": a left set of facts (the previous step's facts and the contexts active then) and the
right set that followed it. A value scores high when few of the contexts its left side selects
come wholly true and many of the contexts it suggests are new. A score at or above 0.75
silences the next ``rest`` scores.

Written from the published description and the Python 2 code NAB's results came from (the
version without prediction gating), and checked against NAB's published scores: all 67,740
rows of the 17 AWS files agree to the 12 digits NAB wrote (``bench_nab`` prints the check).
That code ran under Python 2, whose tuple hashes break ties between equally active contexts and
whose dict order decides the order new contexts are learned in; both are reproduced here
(``_py2_hash``, ``_Py2IntDict``). With Python 3's hashes 39,689 of the rows differ (72.09
becomes 71.72); with Python 3's dict order, 192.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tests.bench.nab import probation_rows

F64 = npt.NDArray[np.float64]

BASE_THRESHOLD = 0.75
MAX_LEFT_LENGTH = 7
MAX_ACTIVE_NEURONS = 15
VALUE_BITS = 3
LEVELS = 2**VALUE_BITS - 1
NEURON_FACT = 2**31

_MASK64 = (1 << 64) - 1


def _signed64(x: int) -> int:
    x &= _MASK64
    return x - (1 << 64) if x >> 63 else x


def _py2_hash(items: tuple[int, ...]) -> int:
    """Python 2's hash of a tuple of small ints on a 64-bit machine (an int hashes to itself)."""
    x, mult, left = 0x345678, 1000003, len(items)
    for y in items:
        left -= 1
        x = _signed64((x ^ y) * mult)
        mult = _signed64(mult + 82520 + left + left)
    x = _signed64(x + 97531)
    return -2 if x == -1 else x


class _Py2IntDict:
    """A dict of non-negative int keys that iterates in Python 2's slot order."""

    __slots__ = ("_items", "slots", "values")

    def __init__(self) -> None:
        self.slots: list[int | None] = [None] * 8
        self.values: dict[int, int] = {}
        self._items: list[tuple[int, int]] | None = []

    def _insert(self, slots: list[int | None], key: int) -> None:
        mask = len(slots) - 1
        i = key & mask
        perturb = key
        while slots[i & mask] is not None:
            i = ((i << 2) + i + perturb + 1) & _MASK64
            perturb >>= 5
        slots[i & mask] = key

    def setdefault(self, key: int, value: int) -> int:
        if key in self.values:
            return self.values[key]
        self.values[key] = value
        self._items = None
        self._insert(self.slots, key)
        used = len(self.values)
        if used * 3 >= len(self.slots) * 2:
            size = 8
            while size <= 4 * used:
                size <<= 1
            grown: list[int | None] = [None] * size
            for k in self.slots:
                if k is not None:
                    self._insert(grown, k)
            self.slots = grown
        return value

    def items(self) -> list[tuple[int, int]]:
        if self._items is None:
            self._items = [(k, self.values[k]) for k in self.slots if k is not None]
        return self._items


@dataclass(eq=False)
class _Semi:
    """One side of some contexts: its facts, and how many of them the last crossing matched."""

    index: int
    size: int
    crossed: list[int] = field(default_factory=list)
    n_crossed: int = 0
    contexts: _Py2IntDict = field(default_factory=_Py2IntDict)  # right index -> context id


@dataclass(eq=False)
class _Context:
    active: int = 0
    zero_level: bool = False
    left_hash: int = 0
    right_hash: int = 0


class _Memory:
    """The context memory: both sides' semi-contexts, indexed by fact, and the contexts."""

    def __init__(self) -> None:
        self.by_hash: tuple[dict[int, _Semi], dict[int, _Semi]] = ({}, {})
        self.semis: tuple[list[_Semi], list[_Semi]] = ([], [])
        self.by_fact: tuple[dict[int, list[_Semi]], dict[int, list[_Semi]]] = ({}, {})
        self.crossed: list[list[_Semi]] = [[], []]
        self.contexts: list[_Context] = []
        # The original compares ids with a ``False`` that equals 0: context 0 is skipped then too.
        self.new_context_id = 0

    def _semi(self, side: int, facts: tuple[int, ...], h: int) -> _Semi:
        semi = self.by_hash[side].get(h)
        if semi is None:
            semi = _Semi(len(self.semis[side]), len(facts))
            self.by_hash[side][h] = semi
            self.semis[side].append(semi)
            for fact in facts:
                self.by_fact[side].setdefault(fact, []).append(semi)
        return semi

    def learn(self, pairs: list[tuple[tuple[int, ...], tuple[int, ...]]], zero_level: bool) -> int:
        """Store the contexts not yet known; how many were new (zero level: whether it was)."""
        added = 0
        for left, right in pairs:
            lh, rh = _py2_hash(left), _py2_hash(right)
            left_semi = self._semi(0, left, lh)
            right_semi = self._semi(1, right, rh)
            fresh = len(self.contexts)
            cid = left_semi.contexts.setdefault(right_semi.index, fresh)
            if cid == fresh:
                added += 1
                self.contexts.append(_Context(zero_level=zero_level, left_hash=lh, right_hash=rh))
                if zero_level:
                    self.new_context_id = cid
                    return 1
            elif zero_level:
                self.contexts[cid].zero_level = True
                return 0
        return added

    def cross(self, side: int, facts: tuple[int, ...]) -> None:
        """Match ``facts`` against one side's semi-contexts, keeping those touched in creation
        order."""
        for semi in self.crossed[side]:
            semi.crossed = []
            semi.n_crossed = 0
        crossed: list[_Semi] = []
        for fact in facts:
            for semi in self.by_fact[side].get(fact, ()):
                if not semi.crossed:
                    crossed.append(semi)
                semi.crossed.append(fact)
        crossed.sort(key=lambda semi: semi.index)
        for semi in crossed:
            semi.n_crossed = len(semi.crossed)
        self.crossed[side] = crossed

    def activate(
        self, new_context: bool
    ) -> tuple[list[tuple[int, int, int, int]], int, list[tuple[tuple[int, ...], tuple[int, ...]]]]:
        """Update the contexts the last left crossing selected against this right crossing.

        Returns the contexts now wholly active ``(id, activations, left hash, right hash)``, how
        many were selected, and the partly matched pairs that may be learned as new contexts.
        """
        active: list[tuple[int, int, int, int]] = []
        selected = 0
        candidates: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        rights = self.semis[1]
        for left in self.crossed[0]:
            whole = left.size == left.n_crossed
            for right_index, cid in left.contexts.items():
                if cid == self.new_context_id:
                    continue
                c = self.contexts[cid]
                right = rights[right_index]
                if right.n_crossed == 0:
                    selected += whole
                    continue
                if whole:
                    selected += 1
                    if right.size == right.n_crossed:
                        c.active += 1
                        active.append((cid, c.active, c.left_hash, c.right_hash))
                        continue
                if c.zero_level and new_context and left.n_crossed <= MAX_LEFT_LENGTH:
                    candidates.append((tuple(left.crossed), tuple(right.crossed)))
        self.new_context_id = 0
        return active, selected, candidates


class CadOse:
    """One file's CAD OSE, fed value by value; ``low``/``high`` are the file's extremes."""

    def __init__(self, low: float, high: float, rest: float) -> None:
        self.low = float(low)
        span = float(high) - self.low
        self.step = (span if span != 0.0 else float(LEVELS)) / LEVELS
        self.rest = int(rest)
        self.memory = _Memory()
        self.left: tuple[int, ...] = ()
        self.history = [1.0]

    def _facts(self, value: float) -> tuple[int, ...]:
        level = int((value - self.low) / self.step)
        bits = format(level, "b").rjust(VALUE_BITS, "0")
        return tuple(2 * k + int(b) for k, b in enumerate(reversed(bits)))

    def _step(self, facts: tuple[int, ...]) -> tuple[float, float]:
        memory = self.memory
        current = tuple(sorted(set(facts)))
        unique: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
        new_context = False
        if self.left and current:
            zero = (self.left, current)
            unique.add(zero)
            new_context = memory.learn([zero], zero_level=True) == 1
        memory.cross(1, current)
        active, selected, candidates = memory.activate(new_context)
        unique.update(candidates)
        share_active = len(active) / selected if selected > 0 else 0.0
        neurons = [a[0] for a in sorted(active, key=lambda a: a[1:])[-MAX_ACTIVE_NEURONS:]]
        self.left = tuple(sorted(set(current) | {NEURON_FACT + n for n in neurons}))
        added = memory.learn(candidates, zero_level=False) if candidates else 0
        memory.cross(0, self.left)
        added += 1 if new_context else 0
        share_added = added / len(unique) if new_context and unique else 0.0
        return share_active, share_added

    def score(self, value: float) -> float:
        share_active, share_added = self._step(self._facts(value))
        current = (1.0 - share_active + share_added) / 2.0
        recent = self.history[-self.rest :] if self.rest else self.history
        out = current if max(recent) < BASE_THRESHOLD else 0.0
        self.history.append(current)
        return out


def scores(values: F64) -> F64:
    """CAD OSE's score for every row, as NAB runs it (the file's extremes, rest = probation/5)."""
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    detector = CadOse(low, high, probation_rows(len(values)) / 5.0)
    return np.array(
        [detector.score(v if math.isfinite(v) else low) for v in values.tolist()], dtype=np.float64
    )


def scores_all(series: Sequence[F64]) -> list[F64]:
    """``scores`` of every series, one process per core: CAD OSE is pure Python and slow."""
    with ProcessPoolExecutor() as pool:
        return list(pool.map(scores, series))
