"""A KV that came back empty: what the database still shows open is closed, and said why.

The engine's state (alert book, groups, tracked incidents) lives in the KV. When the engine
finds no state while the database holds incidents and alerts that are open, nothing will ever
close them: the engine no longer knows them. ``orphan_writes`` closes each one at ``bucket``
(incidents ``resolved`` by ``engine``, with a timeline step saying the state was lost; alerts
``resolved``); the engine then starts afresh, and whatever is still wrong in the fleet is
detected again as new alerts and incidents. With the database unreachable too there is
nothing to read: that is logged and the records stay open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel

from lib.engine.reasons import STATE_LOST
from lib.engine.records import at
from lib.errors import StoreError
from lib.sim import Fleet
from lib.store.db import OPEN_INCIDENTS, AlertStateChange, Repository, TimelineEntry

log = logging.getLogger("openmanager.engine")

LIMIT = 10_000


def orphan_writes(
    repo: Callable[[], Repository], fleet: Fleet, bucket: int
) -> list[tuple[str, list[BaseModel]]]:
    """The writes that close what the database shows open, as of ``bucket``."""
    try:
        incidents = repo().list_incidents(statuses=list(OPEN_INCIDENTS), limit=LIMIT)
        alerts = repo().list_alerts(states=["firing", "acknowledged"], limit=LIMIT)
    except StoreError as exc:
        log.warning("engine state lost; open records not reconciled: %s", exc.code)
        return []
    when = at(fleet, bucket)
    closed = [
        i.model_copy(
            update={
                "status": "resolved",
                "resolved_at": when,
                "resolved_by": "engine",
                "timeline": (
                    *i.timeline,
                    TimelineEntry(
                        at=when, event="closed", reason=STATE_LOST[0], reason_ko=STATE_LOST[1]
                    ),
                ),
            }
        )
        for i in incidents
    ]
    resolved = [AlertStateChange(id=a.id, state="resolved", at=when) for a in alerts]
    if closed or resolved:
        log.warning(
            "engine state lost: closing %d open incident(s), %d open alert(s)",
            len(closed),
            len(resolved),
        )
    writes: list[tuple[str, list[BaseModel]]] = []
    if closed:
        writes.append(("upsert_incidents", list(closed)))
    if resolved:
        writes.append(("update_alert_states", list(resolved)))
    return writes
