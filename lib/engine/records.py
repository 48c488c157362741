"""Turn the engine's decisions into persisted records and stream events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from lib.alert_levels import level_name
from lib.alerts import AlertState, Transition, alert_id, server_metric_of
from lib.engine.detection import Detection
from lib.engine.reasons import Reason
from lib.engine.world import IncidentTrack
from lib.sim import METRICS, Fleet
from lib.store.db import (
    AlertRecord,
    AlertStateChange,
    IncidentRecord,
    RollupRecord,
    TimelineEntry,
)

BUCKETS_PER_MINUTE_S = 60


@dataclass(frozen=True)
class Event:
    """A stream event: ``kind`` is the SSE event name, ``bucket`` its place in time.

    Events carry no wall time and serialise deterministically, so two functions that
    processed the same bucket store the same member in the events sorted set.
    """

    kind: str
    bucket: int
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "bucket": self.bucket, "data": self.data},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Event:
        d = json.loads(text)
        return cls(d["kind"], d["bucket"], d["data"])


def at(fleet: Fleet, bucket: int) -> datetime:
    return datetime.fromtimestamp(fleet.epoch_s + bucket * fleet.bucket_seconds, UTC)


def alert_writes(
    fleet: Fleet, det: Detection, transitions: list[Transition]
) -> tuple[list[AlertRecord], list[AlertStateChange], list[Event]]:
    """New alerts, state changes and their events for the transitions of one bucket range."""
    n_metrics = len(METRICS)
    inserts: list[AlertRecord] = []
    changes: list[AlertStateChange] = []
    events: list[Event] = []
    for t in transitions:
        if t.kind not in ("fired", "escalated", "resolved"):
            continue
        server, metric = server_metric_of(t.series, n_metrics)
        row = t.bucket - det.b0
        value = float(det.values[row, server, metric])
        threshold = float(det.warn_upper[row, t.series])
        threshold = threshold if np.isfinite(threshold) else value
        ident = alert_id(fleet.ids[server], METRICS[metric], t.fired_bucket)
        level = level_name(int(t.level))
        when = at(fleet, t.bucket)
        if t.kind == "fired":
            inserts.append(
                AlertRecord(
                    id=ident,
                    server_id=fleet.ids[server],
                    metric=METRICS[metric],
                    level=level,  # type: ignore[arg-type]
                    state="firing",
                    value=value,
                    threshold=threshold,
                    fired_at=when,
                    message=f"{METRICS[metric]} on {fleet.ids[server]} is {value:.1f}"
                    f" (threshold {threshold:.1f})",
                )
            )
        elif t.kind == "escalated":
            # An acknowledged alert keeps its state and its silence; only its level rises.
            state = "acknowledged" if t.to_state == AlertState.ACKNOWLEDGED else "firing"
            if state == "firing":
                changes.append(
                    AlertStateChange(id=ident, state="firing", at=when, level=level, value=value)  # type: ignore[arg-type]
                )
        else:
            changes.append(AlertStateChange(id=ident, state="resolved", at=when))
        events.append(
            Event(
                "alert",
                t.bucket,
                {
                    "id": ident,
                    "transition": t.kind,
                    "server_id": fleet.ids[server],
                    "metric": METRICS[metric],
                    "level": level,
                    "value": round(value, 3),
                    "threshold": round(threshold, 3),
                    "score": round(float(t.score), 4),
                },
            )
        )
    return inserts, changes, events


def incident_record(fleet: Fleet, track: IncidentTrack) -> IncidentRecord:
    """The persisted form of an incident as the engine knows it now."""

    def when(bucket: int | None) -> datetime | None:
        return None if bucket is None else at(fleet, bucket)

    return IncidentRecord(
        id=track.id,
        type=track.type,
        servers=tuple(fleet.ids[s] for s in track.servers),
        root_server=fleet.ids[track.root],
        status=track.status,  # type: ignore[arg-type]
        started_at=at(fleet, track.started_bucket),
        detected_at=when(track.detected_bucket),
        recovery_attempted_at=when(track.recovery_bucket),
        recovered_at=when(track.recovered_bucket),
        escalated_at=when(track.escalated_bucket),
        resolved_at=when(track.resolved_bucket),
        resolved_by=track.resolved_by,
        strategy=track.strategy,
        timeline=tuple(
            TimelineEntry(at=at(fleet, b), event=event, reason=en, reason_ko=ko)
            for b, event, (en, ko) in track.timeline
        ),
        diagnosis={**track.diagnosis, "attempts": list(track.attempts)},
        scenario=track.scenario,
    )


def incident_event(fleet: Fleet, track: IncidentTrack, bucket: int, change: str) -> Event:
    return Event(
        "incident",
        bucket,
        {
            "id": track.id,
            "change": change,
            "type": track.type,
            "status": track.status,
            "root_server": fleet.ids[track.root],
            "servers": [fleet.ids[s] for s in track.servers],
            "strategy": track.strategy,
            "confidence": track.diagnosis.get("confidence"),
            "reason": _bilingual(track.timeline[-1][2]) if track.timeline else None,
        },
    )


def _bilingual(reason: Reason) -> dict[str, str]:
    return dict(zip(("en", "ko"), reason, strict=True))


def minute_rollups(fleet: Fleet, values: np.ndarray, b0: int) -> list[RollupRecord]:
    """Avg and max per server and metric for every whole minute in ``values``.

    ``values`` is float32[bucket, server, metric] starting at bucket ``b0``; only minutes
    entirely inside it are rolled up.
    """
    per_minute = max(1, BUCKETS_PER_MINUTE_S // fleet.bucket_seconds)
    first = _next_minute_start(fleet, b0)
    count = (b0 + values.shape[0] - first) // per_minute
    if count <= 0:
        return []
    block = values[first - b0 : first - b0 + count * per_minute].astype(np.float64)
    block = block.reshape(count, per_minute, fleet.size, len(METRICS))
    avg, peak = block.mean(axis=1), block.max(axis=1)
    records = []
    for k in range(count):
        minute = at(fleet, first + k * per_minute)
        for s, server_id in enumerate(fleet.ids):
            records.append(
                RollupRecord(
                    server_id=server_id,
                    minute=minute,
                    samples=per_minute,
                    avg={m: round(float(avg[k, s, i]), 4) for i, m in enumerate(METRICS)},
                    max={m: round(float(peak[k, s, i]), 4) for i, m in enumerate(METRICS)},
                )
            )
    return records


def _next_minute_start(fleet: Fleet, bucket: int) -> int:
    """The first bucket at or after ``bucket`` that starts a UTC minute."""
    per_minute = max(1, BUCKETS_PER_MINUTE_S // fleet.bucket_seconds)
    offset = (fleet.epoch_s // fleet.bucket_seconds) % per_minute
    return bucket + (-(bucket + offset)) % per_minute


def minute_floor(fleet: Fleet, bucket: int) -> int:
    """The bucket that starts the UTC minute containing ``bucket``."""
    per_minute = max(1, BUCKETS_PER_MINUTE_S // fleet.bucket_seconds)
    return _next_minute_start(fleet, bucket - per_minute + 1)
