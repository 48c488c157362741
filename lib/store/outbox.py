"""The outbox: database writes that failed wait in a KV list and are replayed in order.

Every write is a Repository write operation and its records, JSON-encoded. A write first
replays what is waiting (so order holds), then goes straight to the database; when the
database cannot be reached (``StoreUnavailable``/``StoreTimeout``) it is appended to the list
instead. Replays are idempotent upserts keyed by record ids, so a write replayed after a crash
lands once. A write the database *rejects* (a plain ``StoreError`` or a ``ValidationError``: bad
data, not an outage)
would block the queue forever; it goes to a dead-letter list, kept for an operator, never lost.

One flusher at a time holds a short KV lock, so two functions never trim each other's work.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lib.errors import StoreError, StoreTimeout, StoreUnavailable, ValidationError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lib.store.db import Repository
    from lib.store.kv import Kv

log = logging.getLogger("openmanager.outbox")

QUEUE_KEY = "om:outbox"
DEAD_KEY = "om:outbox:dead"
LOCK_KEY = "om:outbox:lock"

_OUTAGE = (StoreUnavailable, StoreTimeout)


class Outbox:
    """Writes to ``Repository`` that survive a database outage."""

    def __init__(self, kv: Kv, *, batch: int = 50, lock_ms: int = 30_000) -> None:
        self._kv = kv
        self._batch = batch
        self._lock_ms = lock_ms

    def depth(self) -> int:
        """Writes waiting to be replayed."""
        return self._kv.llen(QUEUE_KEY)

    def dead(self) -> list[dict[str, Any]]:
        """Writes the database rejected, oldest first."""
        return [json.loads(item) for item in self._kv.lrange(DEAD_KEY, 0, -1)]

    def write(self, repo: Repository, op: str, records: Sequence[BaseModel]) -> bool:
        """Write now if the database answers, else queue. Returns whether it landed now."""
        return self.write_many(repo, [(op, records)])

    def write_many(
        self, repo: Repository, writes: Sequence[tuple[str, Sequence[BaseModel]]]
    ) -> bool:
        """Several writes as one entry, applied in order: one queue check for all of them.

        Raises ``StoreError`` only when neither the database nor the KV can take the writes,
        so the caller (the engine) knows to try the whole step again.
        """
        ops = [(op, [r.model_dump(mode="json") for r in records]) for op, records in writes]
        ops = [(op, records) for op, records in ops if records]
        if not ops:
            return True
        entry = {"id": uuid.uuid4().hex, "ops": ops}
        if self.depth():
            self.flush(repo)
            if self.depth():
                # Still waiting (an outage, or another function is replaying): queue behind
                # them, since a state update must not overtake the write it follows.
                self._kv.rpush(QUEUE_KEY, json.dumps(entry))
                return False
        try:
            _apply(repo, entry)
        except _OUTAGE as exc:
            log.warning("database unavailable (%s); queued %s", exc.code, _names(entry))
            self._kv.rpush(QUEUE_KEY, json.dumps(entry))
            return False
        except (StoreError, ValidationError) as exc:
            self._bury(entry, exc)
        return True

    def flush(self, repo: Repository) -> StoreError | None:
        """Replay waiting writes in order until the queue is empty or the database fails.

        Returns the outage that stopped the replay, or ``None`` when the queue was emptied
        (or another function holds the flush lock and is emptying it).
        """
        token = uuid.uuid4().hex
        if not self._kv.set(LOCK_KEY, token, nx=True, px=self._lock_ms):
            return None
        try:
            while True:
                pending = self._kv.lrange(QUEUE_KEY, 0, self._batch - 1)
                if not pending:
                    return None
                done, outage = self._replay(repo, pending)
                if done:
                    self._kv.ltrim(QUEUE_KEY, done, -1)
                if outage is not None:
                    return outage
        finally:
            self._kv.delete_if_equals(LOCK_KEY, token)

    def _replay(self, repo: Repository, pending: list[str]) -> tuple[int, StoreError | None]:
        for done, raw in enumerate(pending):
            entry = json.loads(raw)
            try:
                _apply(repo, entry)
            except _OUTAGE as exc:
                return done, exc
            except (StoreError, ValidationError) as exc:
                self._bury(entry, exc)
        return len(pending), None

    def _bury(self, entry: dict[str, Any], exc: StoreError | ValidationError) -> None:
        log.error("database rejected %s (%s); kept in %s", _names(entry), exc.message, DEAD_KEY)
        self._kv.rpush(DEAD_KEY, json.dumps({**entry, "error": exc.message}))


def _apply(repo: Repository, entry: dict[str, Any]) -> None:
    # Replaying an entry whose first ops landed before a failure is safe: every op is
    # idempotent by record id.
    for op, records in entry["ops"]:
        repo.apply(op, records)


def _names(entry: dict[str, Any]) -> str:
    return "+".join(op for op, _ in entry["ops"])
