"""Notices waiting to be sent, in the KV: recorded by the engine, claimed once by a sender.

``om:push:queue`` is a hash from a delivery key to its JSON (a ``Notice``, and for a retry the
one endpoint it is for and when it is due). Recording is ``HSET``: the engine redoing a range
after a crash writes the same fields again. Claiming takes a field with ``HDEL`` (one caller
gets 1) and marks its key sent with ``SET om:push:sent:<key> NX``: a notice recorded again after
it was sent finds the mark and is dropped. So every notice goes out once, whatever the number
of workers; a worker that dies between claiming and sending loses that notice (at most once).

``om:push:groups`` maps the alert groups of open incidents to them (``lib.push.notices``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.errors import StoreError
from lib.push.notices import Notice, Told

if TYPE_CHECKING:
    from lib.store.kv import Kv

QUEUE_KEY = "om:push:queue"
GROUPS_KEY = "om:push:groups"
SENT_PREFIX = "om:push:sent:"
SENT_KEEP_MS = 2 * 86_400_000  # longer than any range the engine could redo


@dataclass(frozen=True)
class Entry:
    """A notice to deliver: to every subscription that wants it, or to ``only`` one."""

    key: str
    notice: Notice
    only: str | None = None
    not_before: float = 0.0
    attempt: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "notice": json.loads(self.notice.to_json()),
                "only": self.only,
                "not_before": self.not_before,
                "attempt": self.attempt,
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, key: str, text: str) -> Entry:
        data = json.loads(text)
        notice = Notice.from_json(json.dumps(data["notice"]))
        return cls(key, notice, data.get("only"), data.get("not_before", 0.0), data["attempt"])


def record(kv: Kv, entries: list[Entry], told: Told | None = None) -> None:
    """Queue ``entries``, and keep which alert groups belong to which open incident."""
    commands: list[list[str | int | float]] = []
    if entries:
        commands.append(["HSET", QUEUE_KEY, *_flat({e.key: e.to_json() for e in entries})])
    if told is not None and told.links:
        commands.append(["HSET", GROUPS_KEY, *_flat(told.links)])
    if told is not None and told.unlinked:
        commands.append(["HDEL", GROUPS_KEY, *told.unlinked])
    if commands:
        _raise_errors(kv.pipeline(commands))


def incident_groups(kv: Kv) -> dict[str, str]:
    """Alert group id → id of the open incident it belongs to."""
    return kv.hgetall(GROUPS_KEY)


def _flat(mapping: dict[str, str]) -> list[str]:
    return [item for pair in mapping.items() for item in pair]


def _raise_errors(replies: list[object]) -> list[object]:
    for reply in replies:
        if isinstance(reply, StoreError):
            raise reply
    return replies


def due(kv: Kv, now_s: float) -> list[Entry]:
    """Entries whose time has come (a deferred retry waits for its ``not_before``)."""
    entries = [Entry.from_json(k, v) for k, v in kv.hgetall(QUEUE_KEY).items()]
    return [e for e in entries if e.not_before <= now_s]


def claim(kv: Kv, entries: list[Entry]) -> list[Entry]:
    """The entries this caller won, never sent before; the others are someone else's."""
    if not entries:
        return []
    commands: list[list[str | int | float]] = []
    for e in entries:
        commands.append(["HDEL", QUEUE_KEY, e.key])
        commands.append(["SET", SENT_PREFIX + e.key, "1", "NX", "PX", SENT_KEEP_MS])
    replies = _raise_errors(kv.pipeline(commands))
    won = []
    for i, e in enumerate(entries):
        removed, marked = replies[2 * i], replies[2 * i + 1]
        if removed == 1 and marked is not None:
            won.append(e)
    return won
