"""Per failure type, which metrics move which way and how strongly: read off the catalogue.

The catalogue (``lib.sim.FAILURE_TYPES``) is the runbook's description of each failure
(what it does to a server and to its neighbours); no instance of a failure, no schedule and
no ground truth is read here, so the signatures hold whatever the seed or the severity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from lib.sim import FAILURE_TYPES, METRICS, Reach

# A SET effect raises a metric when its target value is above this (else it lowers it).
_SET_UP_ABOVE: Final = MappingProxyType(
    {"cpu_pct": 70.0, "memory_pct": 90.0, "disk_pct": 90.0, "packet_loss_pct": 3.0,
     "error_pct": 3.0}
)  # fmt: skip
_SET_UP_DEFAULT: Final = 10.0
# The size of an additive change that counts as fully decisive, per metric.
_ADD_UNIT: Final = MappingProxyType(
    {"cpu_pct": 20.0, "memory_pct": 10.0, "disk_pct": 10.0, "error_pct": 2.0,
     "net_latency_ms": 20.0, "packet_loss_pct": 2.0}
)  # fmt: skip
_KEY_WEIGHT: Final = 1.5
_PRIMARY_WEIGHT: Final = 2.5
"""The first key metric is what the failure is named after (a disk filling, a heap growing):
it alone goes a long way, before the errors it leads to show."""
# Waves that act only in short spikes are rarely visible in a short recent window.
_SPIKY_WAVES: Final = frozenset({"OOM"})
_SPIKY_WEIGHT: Final = 0.2
_STOCKS: Final = frozenset({"memory_pct", "disk_pct", "net_out_mbps"})
"""Key metrics that do damage before anyone suffers: a heap or a disk filling up, data or
cache-missed traffic leaving. A type named after CPU, requests, errors or latency is a
failure only once something suffers: otherwise it is routine load."""


@dataclass(frozen=True)
class Mark:
    """One expected move: metric index, direction (+1 / -1) and weight (0, 1.5]."""

    metric: int
    direction: int
    weight: float


@dataclass(frozen=True)
class Signature:
    """How one failure type looks on its targets and along its reaches."""

    type: str
    roles: tuple[str, ...]
    key_metrics: tuple[int, ...]
    target: tuple[Mark, ...]
    reaches: MappingProxyType[str, tuple[Mark, ...]]
    recovery: str
    silent: bool = False
    """Whether it is an incident before users feel it (see ``_STOCKS``)."""


def _mark(effect: object, key: tuple[int, ...]) -> Mark:
    metric, op, value = effect.metric, effect.op.name, float(effect.value)  # type: ignore[attr-defined]
    name = METRICS[metric]
    if op == "SET":
        direction = 1 if value > _SET_UP_ABOVE.get(name, _SET_UP_DEFAULT) else -1
        weight = 1.0
    elif op == "MUL":
        direction = 1 if value > 1 else -1
        weight = min(1.0, abs(math.log(value)) / math.log(2)) if value > 0 else 1.0
    else:
        direction = 1 if value > 0 else -1
        weight = min(1.0, abs(value) / _ADD_UNIT.get(name, 1.0))
    if effect.wave.name in _SPIKY_WAVES:  # type: ignore[attr-defined]
        weight *= _SPIKY_WEIGHT
    if key and metric == key[0]:
        weight *= _PRIMARY_WEIGHT
    elif metric in key:
        weight *= _KEY_WEIGHT
    return Mark(metric, direction, weight)


def _signature(name: str) -> Signature:
    failure = FAILURE_TYPES[name]
    key = tuple(METRICS.index(m) for m in failure.key_metrics)
    reaches = {
        str(reach.value): tuple(_mark(e, ()) for e in failure.effects_on(reach))
        for reach in failure.reaches
    }
    return Signature(
        type=name,
        roles=tuple(failure.target_roles),
        key_metrics=key,
        target=tuple(_mark(e, key) for e in failure.effects_on(Reach.TARGET)),
        reaches=MappingProxyType(reaches),
        recovery=failure.recovery.name,
        silent=failure.key_metrics[0] in _STOCKS,
    )


SIGNATURES: Final = MappingProxyType({name: _signature(name) for name in FAILURE_TYPES})
"""Signature of every catalogue type, by name."""

RECOVERY_OF: Final = MappingProxyType({s.type: s.recovery for s in SIGNATURES.values()})
"""The catalogue's recovery strategy name of every type."""
