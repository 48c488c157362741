"""Read models: what the fleet looks like at a bucket, computed once per bucket per instance.

A view costs no KV command beyond the engine's cached world; the detector runs over the
anchored window once per bucket and every reader of that bucket shares the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from lib.alert_levels import level_name
from lib.alerts import OPEN_STATES, AlertBook, Level, alert_id
from lib.engine.core import Engine
from lib.engine.detection import Detection, detect
from lib.engine.world import IncidentTrack, World
from lib.sim import METRICS, SERVER_STATUSES, Fleet, Overrides


@dataclass(frozen=True)
class OpenAlert:
    """An alert open at the view's bucket (from the engine's book)."""

    id: str
    server: int
    metric: str
    state: str  # firing | acknowledged
    level: str
    fired_bucket: int
    since_bucket: int
    peak_score: float


@dataclass(frozen=True)
class FleetView:
    """The fleet at ``bucket``: metrics, detection, open alerts and incidents.

    ``detection`` holds one row (the bucket itself); arrays are indexed by server and,
    for per-series arrays, by ``server × len(METRICS) + metric``.
    """

    bucket: int
    fleet: Fleet
    detection: Detection
    world: World
    overrides: Overrides
    processed_through: int | None
    answers: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    """Serialised answers derived from this view (e.g. a fleet page), shared by every reader
    of the bucket: the view is immutable, so they are too."""

    def answer(self, key: str, build: Callable[[], bytes]) -> bytes:
        """``build()`` once per view and ``key``; later readers get the same bytes."""
        found = self.answers.get(key)
        if found is None:
            found = self.answers.setdefault(key, build())
        return found

    @property
    def values(self) -> npt.NDArray[np.float32]:
        """float32[server, metric]."""
        return self.detection.values[0]

    @property
    def status(self) -> npt.NDArray[np.int8]:
        return self.detection.status[0]

    @property
    def health(self) -> npt.NDArray[np.float32]:
        return self.detection.health[0]

    def series(self, name: str) -> npt.NDArray[np.float64]:
        """A per-series detection array (score, baseline, warn_upper, crit_upper) as
        float64[server, metric]."""
        return getattr(self.detection, name)[0].reshape(self.fleet.size, len(METRICS))

    def status_name(self, server: int) -> str:
        return SERVER_STATUSES[int(self.status[server])]

    @cached_property
    def open_alerts(self) -> tuple[OpenAlert, ...]:
        """Alerts open after the last processed bucket (the book lags reads by < a batch)."""
        state = self.world.state
        if state is None:
            return ()
        return _open_alerts(self.fleet, state.book)

    @property
    def tracked_incidents(self) -> tuple[IncidentTrack, ...]:
        """Detected incidents still open, with their timelines."""
        return () if self.world.state is None else self.world.state.incidents


def fleet_view(engine: Engine, now: float) -> FleetView:
    """The view for ``now``'s bucket, cached on the engine for the rest of the bucket.

    One thread computes it while the others arriving in the same bucket wait for it, so a
    burst of requests at a bucket boundary costs one detection, not one per request.
    """
    bucket = engine.buckets.bucket_of(now)
    world = engine.world(now)
    cached = engine.view_cache
    if isinstance(cached, FleetView) and cached.bucket == bucket and cached.world is world:
        return cached
    with engine.view_lock:
        world = engine.world(now)
        cached = engine.view_cache
        if isinstance(cached, FleetView) and cached.bucket == bucket and cached.world is world:
            return cached
        overrides = engine.overrides(now)
        detection = detect(engine.fleet, overrides, bucket, bucket + 1, scorer=engine.scorer)
        view = FleetView(bucket, engine.fleet, detection, world, overrides, world.last)
        engine.view_cache = view
        return view


def past_view(engine: Engine, now: float, bucket: int) -> FleetView:
    """The fleet as it was at a past ``bucket``: metrics, status and health recomputed.

    The alert book holds only the present, so a past view has no open alerts and no tracked
    incidents; of the injected incidents it keeps those started by then, and of the
    recoveries those effective by then. Detection uses today's overrides: the simulation is
    causal, so what happened after ``bucket`` does not change it.
    """
    world = engine.world(now)
    overrides = engine.overrides(now)
    then = World(
        injected=tuple(i for i in world.injected if i.start_bucket <= bucket),
        recovered_at=MappingProxyType({k: v for k, v in world.recovered_at.items() if v <= bucket}),
    )
    detection = detect(engine.fleet, overrides, bucket, bucket + 1, scorer=engine.scorer)
    return FleetView(bucket, engine.fleet, detection, then, overrides, world.last)


def _open_alerts(fleet: Fleet, book: AlertBook) -> tuple[OpenAlert, ...]:
    n_metrics = len(METRICS)
    out = []
    for series in book.open_series():
        server, metric = divmod(int(series), n_metrics)
        state = int(book.state[series])
        out.append(
            OpenAlert(
                id=alert_id(fleet.ids[server], METRICS[metric], int(book.fired_bucket[series])),
                server=server,
                metric=METRICS[metric],
                state="acknowledged" if state == OPEN_STATES[1] else "firing",
                level=level_name(int(book.level[series]) or Level.WARNING),
                fired_bucket=int(book.fired_bucket[series]),
                since_bucket=int(book.since_bucket[series]),
                peak_score=float(book.peak_score[series]),
            )
        )
    return tuple(out)
