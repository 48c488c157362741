"""``FleetData`` from the simulator alone (pure), with alerts a test chooses."""

from __future__ import annotations

import numpy as np

from lib.ai.data import AlertFact, FleetData, IncidentFact
from lib.analysis import fleet_health
from lib.config import DEFAULT_EPOCH_S
from lib.sim import Overrides, build_fleet, snapshot, window

BUCKET = 600_000
FLEET = build_fleet(20_251_123, 30, epoch_s=DEFAULT_EPOCH_S)
QUIET = Overrides(failures_enabled=False)


def fleet_data(
    alerts: tuple[AlertFact, ...] = (),
    incidents: tuple[IncidentFact, ...] = (),
    history_buckets: int = 0,
) -> FleetData:
    snap = snapshot(FLEET, BUCKET, QUIET)
    history = (
        window(FLEET, BUCKET - history_buckets + 1, BUCKET + 1, QUIET) if history_buckets else None
    )
    return FleetData(
        bucket=BUCKET,
        at="2026-01-21T20:00:00Z",
        bucket_seconds=FLEET.bucket_seconds,
        ids=FLEET.ids,
        role=FLEET.role,
        region=FLEET.region,
        values=np.round(snap.values.astype(np.float64), 3),
        status=snap.status,
        health=np.round(snap.health.astype(np.float64), 1),
        fleet_health=fleet_health(snap.health, snap.status).score,
        active_incidents=sum(i.open for i in incidents),
        alerts=alerts,
        incidents=incidents,
        depends_on=tuple(tuple(int(d) for d in FLEET.dependencies(i)) for i in range(FLEET.size)),
        history=history,
        history_start=BUCKET - history_buckets + 1 if history_buckets else None,
    )


def alert(server_id: str, metric: str, fired: int, score: float = 0.9) -> AlertFact:
    server = FLEET.index_of(server_id)
    return AlertFact(
        f"al-{server_id}-{metric}-{fired}", server, metric, "critical", "firing", fired, score
    )
