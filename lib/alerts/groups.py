"""The records of alert grouping: events in, groups kept between calls, notifications out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lib.alerts.book import AlertState, server_metric_of
from lib.alerts.levels import Level, parse_level
from lib.alerts.lifecycle import Transition
from lib.alerts.summary import Reason
from lib.errors import ValidationError

EventKind = Literal["fired", "escalated", "resolved"]


@dataclass(frozen=True)
class AlertEvent:
    """A series' alert fired, escalated while firing, or resolved, in ``bucket``."""

    kind: EventKind
    server: int
    metric: str
    level: Level
    bucket: int
    onset_bucket: int
    fired_bucket: int


@dataclass(frozen=True)
class GroupMember:
    """One (server, metric) alert inside a group."""

    server: int
    metric: str
    level: Level
    onset_bucket: int
    fired_bucket: int
    open: bool


@dataclass(frozen=True)
class AlertGroup:
    """Alerts that one incident caused, on one server and along its cascade.

    ``notified_level`` is the level operators were last told, ``None`` while the group's
    first notification waits for related alerts (``GroupingParams.group_wait_buckets``).
    """

    id: str
    root: int
    members: tuple[GroupMember, ...]
    opened_bucket: int
    last_bucket: int
    notified_level: Level | None

    @property
    def level(self) -> Level:
        """Highest level of any member."""
        return max(m.level for m in self.members)

    @property
    def servers(self) -> tuple[int, ...]:
        return tuple(sorted({m.server for m in self.members}))

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(sorted({m.metric for m in self.members}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (levels by name); ``from_dict`` reads it back."""
        return {
            "id": self.id,
            "root": self.root,
            "opened_bucket": self.opened_bucket,
            "last_bucket": self.last_bucket,
            "notified_level": self.notified_level.label if self.notified_level else None,
            "members": [
                {
                    "server": m.server,
                    "metric": m.metric,
                    "level": m.level.label,
                    "onset_bucket": m.onset_bucket,
                    "fired_bucket": m.fired_bucket,
                    "open": m.open,
                }
                for m in self.members
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertGroup:
        """Inverse of ``to_dict``; raises ``ValidationError`` on a malformed dict."""
        try:
            members = tuple(
                GroupMember(
                    server=int(m["server"]),
                    metric=str(m["metric"]),
                    level=parse_level(m["level"]),
                    onset_bucket=int(m["onset_bucket"]),
                    fired_bucket=int(m["fired_bucket"]),
                    open=bool(m["open"]),
                )
                for m in data["members"]
            )
            notified = data["notified_level"]
            return cls(
                id=str(data["id"]),
                root=int(data["root"]),
                members=members,
                opened_bucket=int(data["opened_bucket"]),
                last_bucket=int(data["last_bucket"]),
                notified_level=None if notified is None else parse_level(notified),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"malformed alert group: {exc!r}", field="group") from exc


@dataclass(frozen=True)
class Notification:
    """What operators are told about a group in one bucket."""

    group_id: str
    reason: Reason
    level: Level
    bucket: int
    root: int
    servers: tuple[int, ...]
    metrics: tuple[str, ...]
    summary_en: str
    summary_ko: str


def alert_events(transitions: Iterable[Transition], metrics: Sequence[str]) -> list[AlertEvent]:
    """Events for grouping from alert transitions; ``metrics`` names the metric axis.

    Keeps fired alerts, escalations of firing alerts (an acknowledged alert escalates
    silently) and resolutions; series map to (server, metric) as in ``lib.alerts.book``.
    """
    events = []
    for t in transitions:
        if t.kind == "fired" or (t.kind == "escalated" and t.to_state == AlertState.FIRING):
            kind: EventKind = "fired" if t.kind == "fired" else "escalated"
        elif t.kind == "resolved":
            kind = "resolved"
        else:
            continue
        server, metric = server_metric_of(t.series, len(metrics))
        events.append(
            AlertEvent(
                kind=kind,
                server=server,
                metric=metrics[metric],
                level=t.level,
                bucket=t.bucket,
                onset_bucket=t.started_bucket,
                fired_bucket=t.fired_bucket,
            )
        )
    return events
