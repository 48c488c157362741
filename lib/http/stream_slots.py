"""A cap on the live streams one client holds open in this instance (``STREAM_MAX_PER_CLIENT``).

Each open ``/api/stream`` holds a connection and wakes every bucket; five hundred from one
client slowed every other request of the instance to seconds. A client past the cap gets a 429
(``Retry-After``: a stream lasts about a minute); its slot is given back when its stream ends,
however it ends (finished, closed by the client, failed), by ``HeldStream``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from lib.errors import RateLimited

LIMITER = "streams"
RETRY_AFTER_S = 60
"""A stream closes after about 50 s (``StreamTiming.max_duration_s``): a slot frees by then."""


class StreamSlots:
    """Open streams per client key, at most ``per_client`` each."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def open_count(self, client: str) -> int:
        return self._open.get(client, 0)

    def take(self, client: str) -> Callable[[], None]:
        """Hold a slot for ``client`` (``RateLimited`` when none is left); returns the
        release, which may be called more than once."""
        with self._lock:
            if self._open.get(client, 0) >= self.per_client:
                raise RateLimited(
                    f"at most {self.per_client} open streams per client",
                    retry_after_s=RETRY_AFTER_S,
                    limit=self.per_client,
                    limiter=LIMITER,
                )
            self._open[client] = self._open.get(client, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                left = self._open[client] - 1
                if left:
                    self._open[client] = left
                else:
                    del self._open[client]

        return release


class HeldStream(StreamingResponse):
    """A streaming response that calls ``release`` once it is over, however it ends."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        release: Callable[[], None],
        *,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(chunks, media_type=media_type, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
