"""What every read route shares: one dependency and the cache headers.

``Read`` (``Annotated[Reading, Depends(reading)]``) checks read access, takes the time once,
lets the engine catch up when a batch of buckets waits (``Engine.maybe_advance``: no KV
command otherwise) and marks the response cacheable until the next bucket. A handler then asks
the ``Reading`` for the view, the fleet or a bucket range.

Cache headers, for the routes of any module:

- ``cache_for_bucket(response, state, now)``: ``public, s-maxage=<seconds to the next bucket>``
  when reads are public (the body is the same for everyone until the bucket changes);
  ``no-store`` when they need credentials (the body is then for the caller only);
- ``no_store(response)``: mutations and per-caller responses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import BackgroundTasks, Depends, Response

from lib.engine.view import FleetView, fleet_view
from lib.errors import NotFound, ValidationError
from lib.http.auth import Principal, read_access
from lib.http.state import AppState, get_state

if TYPE_CHECKING:
    from lib.engine import Engine
    from lib.sim import Fleet, Overrides

_BUCKET = re.compile(r"-?\d{1,18}")

__all__ = ["Read", "Reading", "cache_for_bucket", "no_store", "reading"]


def cache_for_bucket(response: Response, state: AppState, now: float) -> None:
    """Let shared caches keep a response about ``now``'s bucket until the next bucket starts."""
    if not state.settings.public_read:
        no_store(response)
        return
    seconds = max(1, math.ceil(state.buckets.seconds_to_next_bucket(now)))
    response.headers["Cache-Control"] = f"public, s-maxage={seconds}"


def no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


@dataclass
class Reading:
    """One read request's view of the world at ``now``."""

    state: AppState
    now: float

    @property
    def engine(self) -> Engine:
        return self.state.engine

    @property
    def fleet(self) -> Fleet:
        return self.state.engine.fleet

    @property
    def bucket(self) -> int:
        return self.state.buckets.bucket_of(self.now)

    @cached_property
    def view(self) -> FleetView:
        """The fleet at the current bucket (computed once per bucket per instance)."""
        return fleet_view(self.state.engine, self.now)

    @property
    def overrides(self) -> Overrides:
        """Injected incidents and recoveries in force (no detection needed)."""
        return self.state.engine.overrides(self.now)

    def server_index(self, server_id: str, *, field: str | None = None) -> int:
        """The index of ``server_id``: ``NotFound`` for a path id, or a ``ValidationError``
        naming ``field`` for a filter."""
        try:
            return self.fleet.index_of(server_id)
        except NotFound as exc:
            if field is None:
                raise
            raise ValidationError(exc.message, field=field) from exc

    def time_of(self, bucket: int) -> datetime:
        """When ``bucket`` starts, in UTC."""
        return datetime.fromtimestamp(self.state.buckets.start_of(bucket), UTC)

    def bucket_at(self, instant: datetime, *, field: str) -> int:
        """The bucket holding ``instant``, which may not be later than now."""
        bucket = self.state.buckets.bucket_of(instant.timestamp())
        if bucket > self.bucket:
            raise ValidationError(
                f"{field!r} is in the future (now is {self.now:.0f})", field=field
            )
        return bucket

    def past_bucket(self, text: str, *, field: str) -> int:
        """The bucket named by ``text`` (an ISO-8601 time or a bucket number): not later than
        now, nor older than the retention (``RETENTION_DAYS``)."""
        text = text.strip()
        if _BUCKET.fullmatch(text):
            bucket = int(text)
        else:
            try:
                instant = datetime.fromisoformat(text)
            except ValueError:
                raise ValidationError(
                    f"{field!r} must be an ISO-8601 time or a bucket number", field=field
                ) from None
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            bucket = self.state.buckets.bucket_of(instant.timestamp())
        if bucket > self.bucket:
            raise ValidationError(
                f"{field!r} is in the future (now is {self.now:.0f})", field=field
            )
        days = self.engine.runtime(self.now).retention_days
        oldest = self.bucket - days * 86_400 // self.state.buckets.bucket_seconds
        if bucket < oldest:
            raise ValidationError(
                f"{field!r} is older than the {days} days kept (RETENTION_DAYS)", field=field
            )
        return bucket

    def bucket_range(
        self,
        start: datetime | None,
        end: datetime | None,
        *,
        default_s: int,
        max_s: int,
    ) -> tuple[int, int]:
        """Buckets ``[b0, b1)`` from the one holding ``start`` through the one holding ``end``.

        ``end`` defaults to now and may not be later; ``start`` defaults to ``default_s``
        before ``end``; at most ``max_s`` seconds' worth of buckets. Errors name ``from`` or
        ``to``, the query parameters these come from.
        """
        end_s = self.now if end is None else end.timestamp()
        start_s = end_s - default_s if start is None else start.timestamp()
        if start_s >= end_s:
            raise ValidationError("'from' must be before 'to'", field="from")
        if end_s - start_s > max_s:
            raise ValidationError(f"the range may span at most {max_s} s", field="from")
        buckets = self.state.buckets
        b1 = self.bucket_at(datetime.fromtimestamp(end_s, UTC), field="to") + 1
        return max(buckets.bucket_of(start_s), b1 - max_s // buckets.bucket_seconds), b1


def reading(
    state: Annotated[AppState, Depends(get_state)],
    who: Annotated[Principal | None, Depends(read_access)],
    response: Response,
    background: BackgroundTasks,
) -> Reading:
    """The read dependency: access, the time, the engine's catch-up, the cache header.

    Pushes the catch-up recorded go out after the response (``PUSH_BUDGET_S`` at most).
    """
    now = state.clock.now()
    state.engine.maybe_advance(now)
    if state.push.pending:
        background.add_task(state.push.deliver)
    cache_for_bucket(response, state, now)
    return Reading(state, now)


Read = Annotated[Reading, Depends(reading)]
