"""Which stored alerts belong to which incident: the links the engine writes as it learns them.

An alert's incident is the tracked incident one of whose alert groups holds it; a group that
holds several failures at once (a balancer's bad config and the DNS failure of the web server
behind it) has several incidents, and each alert goes to the one rooted at its server, else
the one that reaches its server, else the group's first. A group is
diagnosed (and joins an incident) a few buckets after its first alerts were stored, later
alerts join it, and groups merge; so in each bucket the links written are: every member of a
group that joined an incident or absorbed another group in it (``fresh``), and the members
that fired in it.
Rewriting a link sets the same value again, so a replayed batch is harmless. Stored, the link
outlives the group and the incident's place in the engine state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from lib.alerts.groups import AlertGroup
from lib.alerts.ids import alert_id
from lib.engine.records import at
from lib.engine.world import IncidentTrack
from lib.sim import Fleet
from lib.store.db import AlertStateChange


def alert_links(
    fleet: Fleet,
    groups: Iterable[AlertGroup],
    tracks: Mapping[str, IncidentTrack],
    bucket: int,
    fresh: Set[str] = frozenset(),
) -> list[AlertStateChange]:
    """The links learned in ``bucket`` (see the module docstring)."""
    by_group: dict[str, list[IncidentTrack]] = {}
    for t in tracks.values():
        for g in t.groups:
            by_group.setdefault(g, []).append(t)
    when = at(fleet, bucket)
    links = []
    for group in groups:
        found = by_group.get(group.id)
        if not found:
            continue
        everyone = group.id in fresh
        links += [
            AlertStateChange(
                id=alert_id(fleet.ids[m.server], m.metric, m.fired_bucket),
                at=when,
                incident_id=_incident_of(found, m.server).id,
            )
            for m in group.members
            if everyone or m.fired_bucket == bucket
        ]
    return links


def _incident_of(found: list[IncidentTrack], server: int) -> IncidentTrack:
    """Among a group's incidents, the one ``server``'s alert belongs to."""
    return min(found, key=lambda t: (t.root != server, server not in t.servers))
