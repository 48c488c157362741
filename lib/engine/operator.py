"""What operators do to the world through the API: inject a failure, resolve an incident,
acknowledge an alert. Each is one or two KV commands; the engine picks them up."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from lib.alerts import OPEN_STATES, acknowledge, series_of
from lib.engine.core import Engine
from lib.engine.records import Event, at
from lib.engine.world import (
    INJECTED,
    RECOVERED,
    RESOLVED_BY,
    WORLD_KEY,
    incident_to_json,
    operator_fix,
)
from lib.errors import Conflict, NotFound, StoreUnavailable, ValidationError
from lib.sim import FAILURE_TYPES, METRIC_INDEX, METRICS, Incident
from lib.sim.noise import hash_ints, hash_text
from lib.store.db import AlertStateChange

_ALERT_ID = re.compile(r"al-(?P<server>[a-z]+-\d+)-(?P<metric>[a-z0-9_]+)-(?P<bucket>\d+)")

MAX_DURATION_S = 6 * 3600


def inject(
    engine: Engine,
    now: float,
    failure_type: str,
    server_ids: list[str],
    duration_s: int,
    magnitude: str = "severe",
) -> Incident:
    """Start a failure on ``server_ids`` at the next bucket, for ``duration_s`` seconds.

    An operator's drill plays at full strength unless ``magnitude`` says otherwise (mild |
    moderate | severe; empty: drawn). Its shape (onset, bursts) is drawn from the fleet's
    seed, the start bucket, the type and the targets, so that the same injection at the same
    time plays the same way.
    """
    if failure_type not in FAILURE_TYPES:
        raise ValidationError(
            f"unknown failure type {failure_type!r}; one of {', '.join(FAILURE_TYPES)}",
            field="type",
        )
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValidationError(
            f"duration_s must be between 1 and {MAX_DURATION_S}", field="duration_s"
        )
    fleet = engine.fleet
    targets = tuple(fleet.index_of(s) for s in dict.fromkeys(server_ids))
    failure = FAILURE_TYPES[failure_type]
    wrong = [fleet.ids[t] for t in targets if fleet.role[t] not in failure.roles]
    if wrong:
        raise ValidationError(
            f"{failure_type} hits {', '.join(failure.target_roles)} servers, not "
            f"{', '.join(wrong)}",
            field="servers",
        )
    start = engine.buckets.bucket_of(now) + 1
    incident = Incident(
        id=f"inj-{start}-{uuid.uuid4().hex[:6]}",
        type=failure_type,
        targets=targets,
        start_bucket=start,
        duration_buckets=max(1, -(-duration_s // engine.settings.bucket_seconds)),
        injected=True,
        magnitude=magnitude,
        draw=hash_ints(fleet.seed, start, hash_text(failure_type), *targets),
    )
    engine.kv.hset(WORLD_KEY, {f"{INJECTED}{incident.id}": incident_to_json(incident)})
    engine.forget()
    return incident


def resolve(engine: Engine, now: float, incident_id: str, actor: str) -> int:
    """Resolve an incident by hand: its metrics settle from the next bucket.

    ``incident_id`` is an engine incident (the operator fixes whatever acts on its servers:
    the world model says what that is) or an injected failure the engine has not detected.
    Returns the bucket it takes effect. The incident must be open.
    """
    bucket = engine.buckets.bucket_of(now)
    world = engine.world(now, fresh=True)
    effective = bucket + 1
    tracked = {t.id: t for t in (world.state.incidents if world.state else ())}
    if incident_id in world.resolved_by:
        raise Conflict(f"incident {incident_id} is already resolved", incident_id=incident_id)
    track = tracked.get(incident_id)
    if track is not None:
        fixed = operator_fix(engine.fleet, engine.overrides(now), track.servers, effective)
    else:
        injected = next((i for i in world.injected if i.id == incident_id), None)
        if injected is None:
            raise NotFound(f"no active incident {incident_id}", incident_id=incident_id)
        end = injected.start_bucket + injected.duration_buckets
        if world.recovered_at.get(incident_id, effective + 1) <= effective or end <= bucket:
            raise Conflict(f"incident {incident_id} is not active", incident_id=incident_id)
        fixed = (incident_id,)
    # The engine incident's own id ends its escalation; the failures' ids end the failures.
    ends = {f"{RECOVERED}{k}": str(effective) for k in (incident_id, *fixed)}
    engine.kv.hset(WORLD_KEY, {**ends, f"{RESOLVED_BY}{incident_id}": actor})
    engine.forget()
    return effective


def acknowledge_alert(engine: Engine, now: float, alert_id: str, actor: str) -> Event:
    """Acknowledge an open alert: it stays open and its escalations go silent."""
    match = _ALERT_ID.fullmatch(alert_id)
    if match is None or match["metric"] not in METRIC_INDEX:
        raise NotFound(f"no alert {alert_id}", alert_id=alert_id)
    server = engine.fleet.index_of(match["server"])
    series = series_of(server, METRIC_INDEX[match["metric"]], len(METRICS))
    bucket = engine.buckets.bucket_of(now)
    with engine.locked(wait_s=5.0) as held:
        if not held:
            raise StoreUnavailable("the engine is busy; try again", backend=engine.kv.backend)
        state = engine.world(now, fresh=True).state
        if state is None or int(state.book.fired_bucket[series]) != int(match["bucket"]):
            raise NotFound(f"no open alert {alert_id}", alert_id=alert_id)
        if int(state.book.state[series]) not in OPEN_STATES:
            raise Conflict(f"alert {alert_id} is not open", alert_id=alert_id)
        book, _ = acknowledge(state.book, series, max(bucket, state.book.bucket))
        # After the last processed bucket: a stream that delivered events through it must
        # still see this one.
        event = Event(
            "alert",
            state.last + 1,
            {"id": alert_id, "transition": "acknowledged", "by": actor},
        )
        if not engine.store.commit(held, state.last, replace(state, book=book), {}, [event]):
            raise StoreUnavailable("the engine is busy; try again", backend=engine.kv.backend)
        engine.forget()
    change = AlertStateChange(
        id=alert_id, state="acknowledged", at=at(engine.fleet, bucket), by=actor
    )
    engine.outbox.write(engine.repo(), "update_alert_states", [change])
    return event
