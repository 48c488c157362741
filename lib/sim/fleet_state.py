"""The vectorised entry points: ``snapshot(bucket)`` and ``window(b0, b1)``.

A window is computed in three steps, none of which looks at buckets outside it:

1. healthy metrics at the knots around it (``lib.sim.baseline``), in float64, rounded once;
2. a smoothstep blend of consecutive knots into buckets, in float32 — two passes over the
   output, the only work proportional to buckets × servers × metrics;
3. each benign event, then each failure acting in it rewrites its own small block
   (``lib.sim.effects``).

Why float32: a 24-hour window of 30 servers is 10.4 M values; float32 halves the memory and
the time of step 2, and 7 significant digits exceed any metric's meaning. Results stay
bit-identical across processes and window boundaries because every float32 operation is an
element-wise ``+ - *`` (correctly rounded by IEEE 754) applied in the same order to the same
operands, whichever window a bucket belongs to: ``window(b0, b1)[k]`` is exactly
``snapshot(b0 + k).values``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError
from lib.sim.baseline import healthy_at_knots, knot_buckets
from lib.sim.benign import benign_between
from lib.sim.effects import apply_impacts, paint_truth
from lib.sim.fleet import Fleet
from lib.sim.health import assess
from lib.sim.incidents import Impact, Incident, Overrides
from lib.sim.metrics import METRICS
from lib.sim.noise import smoothstep
from lib.sim.schedule import impacts_between
from lib.sim.truth import TruthEvent, truth_events

F32 = npt.NDArray[np.float32]
NO_INCIDENT = -1


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The whole fleet at one bucket.

    ``values`` is ``float32[server, metric]``, ``status`` ``int8[server]`` (indices into
    ``SERVER_STATUSES``), ``health`` ``float32[server]`` in [0, 100], and ``truth``
    ``int16[server, metric]``: the index in ``incidents`` of the incident acting on that
    metric (the latest started one if several), or -1.
    """

    bucket: int
    values: F32
    status: npt.NDArray[np.int8]
    health: F32
    truth: npt.NDArray[np.int16]
    incidents: tuple[Incident, ...]
    impacts: tuple[Impact, ...]  # parallel to ``incidents``


def window(
    fleet: Fleet,
    b0: int,
    b1: int,
    overrides: Overrides,
    *,
    servers: npt.ArrayLike | None = None,
) -> F32:
    """Metrics of every server over buckets ``b0 <= b < b1``, in one vectorised computation.

    Parameters
    ----------
    fleet, overrides
        What is simulated: the fleet, and the injected incidents and recoveries.
    b0, b1
        The bucket range, ``b0 <= b1``; any integers, before or after the epoch.
    servers
        Server indices to compute, in this order (default: the whole fleet).

    Returns
    -------
    ``float32[bucket, server, metric]``, metrics in ``METRICS`` order. Row ``k`` is exactly
    ``snapshot(fleet, b0 + k, overrides).values`` (restricted to ``servers``).
    """
    values, _ = _window(fleet, b0, b1, overrides, _servers(fleet, servers))
    return values


def window_truth(
    fleet: Fleet,
    b0: int,
    b1: int,
    overrides: Overrides,
    *,
    servers: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.int16], tuple[Impact, ...]]:
    """Failures' ground truth of buckets ``b0 <= b < b1``: ``int16[bucket, server, metric]``
    and impacts (benign events are left out: see ``ground_truth`` for every event).

    Each cell holds the index, in the returned impacts (ordered by start, then id; equal to
    ``impacts_between(fleet, b0, b1, overrides)``), of the incident acting on that metric,
    the latest started one if several, or -1.
    """
    _check_range(b0, b1)
    chosen = _servers(fleet, servers)
    impacts = impacts_between(fleet, b0, b1, overrides)
    truth = _painted(fleet, b0, b1, chosen, list(enumerate(impacts)), "incidents")
    return truth, impacts


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """The answer key of a window: ``events`` (failures and benign events, by start then id)
    and ``cells``, ``int16[bucket, server, metric]``: the index in ``events`` of the event
    changing that cell (a failure rather than a benign event, the latest started one if
    several), or -1. For the world model and the evaluation, never for the engine's
    decisions."""

    b0: int
    servers: npt.NDArray[np.intp]
    cells: npt.NDArray[np.int16]
    events: tuple[TruthEvent, ...]

    @property
    def failures(self) -> tuple[TruthEvent, ...]:
        return tuple(e for e in self.events if not e.benign)

    @property
    def benign(self) -> tuple[TruthEvent, ...]:
        return tuple(e for e in self.events if e.benign)

    def at(self, bucket: int, server: int) -> tuple[TruthEvent, ...]:
        """Events changing some metric of global server index ``server`` at ``bucket``."""
        column = int(np.flatnonzero(self.servers == server)[0])
        marks = self.cells[bucket - self.b0, column]
        return tuple(self.events[i] for i in sorted(set(marks[marks >= 0].tolist())))


def ground_truth(
    fleet: Fleet,
    b0: int,
    b1: int,
    overrides: Overrides,
    *,
    servers: npt.ArrayLike | None = None,
) -> GroundTruth:
    """The answer key of buckets ``b0 <= b < b1`` (see ``GroundTruth`` and ``TruthEvent``)."""
    _check_range(b0, b1)
    chosen = _servers(fleet, servers)
    events = truth_events(fleet, b0, b1, overrides)
    # Benign events first, so that a failure wins a cell both change.
    order = sorted(range(len(events)), key=lambda i: not events[i].benign)
    marks = [(i, events[i].impact) for i in order]
    cells = _painted(fleet, b0, b1, chosen, marks, "events")
    return GroundTruth(b0=b0, servers=chosen, cells=cells, events=events)


def _painted(
    fleet: Fleet,
    b0: int,
    b1: int,
    chosen: npt.NDArray[np.intp],
    marks: list[tuple[int, Impact]],
    what: str,
) -> npt.NDArray[np.int16]:
    """``int16[bucket, server, metric]`` cells holding, for each ``(index, impact)`` painted
    in turn, ``index`` where the impact acts (a later one over an earlier), else -1."""
    if len(marks) > np.iinfo(np.int16).max:
        raise ValidationError(f"{len(marks)} {what} in [{b0}, {b1}): ask a shorter range")
    cells = np.full((b1 - b0, chosen.size, len(METRICS)), NO_INCIDENT, dtype=np.int16)
    columns = _columns(fleet, chosen)
    for index, impact in marks:
        paint_truth(cells, b0, impact, index, columns, fleet.bucket_seconds)
    return cells


def snapshot(fleet: Fleet, bucket: int, overrides: Overrides) -> Snapshot:
    """The fleet at ``bucket``; costs the same for any bucket, past or present."""
    chosen = np.arange(fleet.size)
    values, impacts = _window(fleet, bucket, bucket + 1, overrides, chosen)
    truth = _painted(fleet, bucket, bucket + 1, chosen, list(enumerate(impacts)), "incidents")[0]
    status, health = assess(fleet, values[0])
    return Snapshot(
        bucket=bucket,
        values=values[0],
        status=status,
        health=health,
        truth=truth,
        incidents=tuple(i.incident for i in impacts),
        impacts=impacts,
    )


def _window(
    fleet: Fleet, b0: int, b1: int, overrides: Overrides, chosen: npt.NDArray[np.intp]
) -> tuple[F32, tuple[Impact, ...]]:
    _check_range(b0, b1)
    if b1 == b0:
        return np.empty((0, chosen.size, len(METRICS)), np.float32), ()
    per_knot = knot_buckets(fleet.bucket_seconds)
    first_knot = b0 // per_knot
    knots = (b1 - 1) // per_knot + 2 - first_knot
    whole = chosen.size == fleet.size and bool((chosen == np.arange(fleet.size)).all())
    at_knots = healthy_at_knots(
        fleet.profile if whole else fleet.profile.take(chosen),
        fleet.lanes if whole else fleet.lanes.take(chosen),
        fleet.seed,
        first_knot,
        knots,
        per_knot * fleet.bucket_seconds,
        fleet.epoch_s,
    )
    weight = smoothstep(np.arange(per_knot) / per_knot).astype(np.float32)
    blended = np.empty((knots - 1, per_knot, chosen.size, len(METRICS)), dtype=np.float32)
    np.multiply((at_knots[1:] - at_knots[:-1])[:, None], weight[None, :, None, None], out=blended)
    blended += at_knots[:-1, None]
    offset = b0 - first_knot * per_knot
    values = blended.reshape(-1, chosen.size, len(METRICS))[offset : offset + b1 - b0]
    impacts = impacts_between(fleet, b0, b1, overrides)
    columns = _columns(fleet, chosen)
    apply_impacts(
        values,
        b0,
        benign_between(fleet, b0, b1, overrides) + impacts,
        columns,
        fleet.bucket_seconds,
    )
    return values, impacts


def _check_range(b0: int, b1: int) -> None:
    if b1 < b0:
        raise ValidationError(f"empty bucket range [{b0}, {b1})", field="b1")


def _servers(fleet: Fleet, servers: npt.ArrayLike | None) -> npt.NDArray[np.intp]:
    if servers is None:
        return np.arange(fleet.size)
    chosen = np.asarray(servers, dtype=np.intp).reshape(-1)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= fleet.size):
        raise ValidationError("server index out of range", field="servers")
    if np.unique(chosen).size != chosen.size:
        raise ValidationError("server indices must be distinct", field="servers")
    return chosen


def _columns(fleet: Fleet, chosen: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    columns = np.full(fleet.size, -1, dtype=np.intp)
    columns[chosen] = np.arange(chosen.size)
    return columns
