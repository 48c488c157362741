"""What the engine can see of an alert group: its servers' series, their logs, the topology.

The only simulator calls here are ``window`` (the metrics a monitoring agent reports) and
``logs`` (what the servers write), from which the incident label is dropped: this is what a
real monitor would have, and never the simulator's answer key.
"""

from __future__ import annotations

from lib.alerts import AlertGroup
from lib.diagnose import Observation, ObservedLog
from lib.diagnose.deviation import BASELINE, GUARD
from lib.sim import ROLES, Fleet, Overrides, logs, window

LOG_BUCKETS = 200
"""How far back the logs of a group's servers are read (10 min at 3 s)."""
MAX_LOOKBACK = 1_200
"""The longest window read for a baseline (an hour at 3 s), for slow failures."""


def observe(
    fleet: Fleet,
    group: AlertGroup,
    bucket: int,
    overrides: Overrides,
    depends_on: tuple[tuple[int, ...], ...],
    climbing: tuple[tuple[int, str], ...] = (),
) -> Observation:
    """The observation of ``group`` as of ``bucket`` (inclusive); ``climbing``: the (server,
    metric) found climbing steadily, for a trend group."""
    alerted = tuple((m.server, m.metric, m.onset_bucket) for m in group.members)
    servers = tuple(sorted({m.server for m in group.members} | {group.root}))
    first = min(onset for _, _, onset in alerted)
    b0 = max(bucket - MAX_LOOKBACK, min(first - BASELINE - GUARD - 20, bucket - BASELINE))
    values = window(fleet, b0, bucket + 1, overrides, servers=list(servers))
    lines = tuple(
        ObservedLog(line.bucket, s, line.level, line.source, line.message)
        for s in servers
        for line in logs(fleet, s, max(b0, bucket + 1 - LOG_BUCKETS), bucket + 1, overrides)
    )
    return Observation(
        bucket=bucket,
        b0=b0,
        servers=servers,
        values=values,
        alerted=alerted,
        root_hint=group.root,
        roles=tuple(ROLES[int(r)] for r in fleet.role),
        regions=tuple(int(r) for r in fleet.region),
        depends_on=depends_on,
        ids=fleet.ids,
        logs=lines,
        climbing=climbing,
    )
