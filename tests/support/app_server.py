"""An ASGI app served by uvicorn on a free 127.0.0.1 port, in a background thread.

For what must reach the app over real HTTP: a Prometheus server scraping it, the API
benchmark's concurrent clients. ``with AppServer(app) as server: httpx.get(server.url + …)``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class AppServer:
    """``app`` on ``url`` while started; ``stop`` waits for the thread to end."""

    def __init__(self, app: Any, *, limit_concurrency: int | None = None) -> None:
        self._config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
            limit_concurrency=limit_concurrency,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> None:
        """Serve, and return once the socket accepts connections."""
        server = uvicorn.Server(self._config)
        thread = threading.Thread(target=server.run, name="app-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("the app server did not start")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
