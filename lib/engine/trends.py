"""Slow climbs the detector learns to live with: a leaking heap, a filling disk.

An adaptive detector follows a metric that creeps up over hours, so a leak or a runaway log
writer may not alert before the damage. Every ``EVERY`` buckets the engine compares each
server's memory and disk now with half an hour and an hour ago; a steady climb becomes a
*trend group* that diagnosis examines like an alert group (it opens an incident only when
diagnosis recognises a failure). Pure: windows in, groups out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

import numpy as np

from lib.alerts import AlertGroup, GroupMember, Level
from lib.sim import METRIC_INDEX, Fleet, Overrides, window

EVERY: Final = 20
"""Buckets between two looks (a minute at 3 s)."""
HOUR: Final = 1_200
SAMPLE: Final = 10
"""Buckets averaged at each end, so that noise does not make a trend."""
# metric → (rise over the hour, rise over the last half hour) that make a steady climb
CLIMB: Final = {"memory_pct": (10.0, 4.0), "disk_pct": (3.0, 1.2)}
PREFIX: Final = "trend-"


def trend_id(server_id: str, metric: str) -> str:
    """One id per server and metric: a climb that goes on keeps its group."""
    return f"{PREFIX}{server_id}-{metric}"


def climbing(fleet: Fleet, overrides: Overrides, bucket: int) -> list[AlertGroup]:
    """Trend groups of the servers whose memory or disk climbs steadily as of ``bucket``."""
    means = [
        window(fleet, b - SAMPLE, b, overrides).mean(axis=0)
        for b in (bucket + 1 - HOUR, bucket + 1 - HOUR // 2, bucket + 1)
    ]
    out = []
    for metric, (hour, half) in CLIMB.items():
        m = METRIC_INDEX[metric]
        then, mid, now = (x[:, m] for x in means)
        for s in np.flatnonzero((now - then >= hour) & (now - mid >= half)):
            member = GroupMember(
                server=int(s),
                metric=metric,
                level=Level.WARNING,
                onset_bucket=bucket - HOUR // 2,
                fired_bucket=bucket,
                open=True,
            )
            out.append(
                AlertGroup(
                    id=trend_id(fleet.ids[int(s)], metric),
                    root=int(s),
                    members=(member,),
                    opened_bucket=bucket,
                    last_bucket=bucket,
                    notified_level=Level.WARNING,
                )
            )
    return out


def in_context(trend: AlertGroup, groups: Sequence[AlertGroup]) -> AlertGroup:
    """``trend`` with the open alerts of the groups its server already alerts in, after its
    climb: a disk climbing on a web server whose balancer went dark is diagnosed knowing the
    balancer is dark (else its lost traffic reads as a crash of its own)."""
    around = tuple(m for g in groups if trend.root in g.servers for m in g.members if m.open)
    return replace(trend, members=trend.members + around) if around else trend


def climbs(group: AlertGroup) -> tuple[tuple[int, str], ...]:
    """The (server, metric) a trend group was found climbing (its first member); none for an
    alert group."""
    if not group.id.startswith(PREFIX):
        return ()
    climb = group.members[0]
    return ((climb.server, climb.metric),)
