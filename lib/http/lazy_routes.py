"""Route modules included on the first request under one of their path prefixes.

A cold start imports ``api/index.py``; importing every route module there (their pydantic
schemas, the engine, grouping, analytics) cost more than FastAPI itself. Each module is named
with the path prefixes its routes live under, and is imported and included when a request
first reaches one of them, or when the OpenAPI document is asked for (it lists every route).
Routes are kept in the order of the table, so matching is the same as had all been eager.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

API = "/api"


@dataclass(frozen=True)
class RouteModule:
    """``lib.http.routes.<name>``: its ``router`` serves paths under ``prefixes`` (below /api)."""

    name: str
    prefixes: tuple[str, ...]
    responses: str = "everywhere"
    """Which table of documented error responses its routes carry (see ``LazyRoutes``)."""

    def serves(self, path: str) -> bool:
        return any(path == API + p or path.startswith(API + p + "/") for p in self.prefixes)


class LazyRoutes:
    """Includes the modules of ``table`` into ``app`` on demand, once each, in table order."""

    def __init__(self, app: FastAPI, table: tuple[RouteModule, ...]) -> None:
        self._app = app
        self._table = table
        self._loaded: set[str] = set()
        self._lock = threading.Lock()
        self._order: dict[int, int] = {}
        """``id`` of each included route → its module's row in the table."""

    def ensure(self, path: str) -> None:
        """Include every module that serves ``path`` (cheap once they are in)."""
        needed = [m for m in self._table if m.name not in self._loaded and m.serves(path)]
        if needed:
            self._load(needed)

    def ensure_all(self) -> None:
        self._load([m for m in self._table if m.name not in self._loaded])

    def _load(self, modules: list[RouteModule]) -> None:
        from lib.http.schemas.errors import error_responses

        # Any route may answer these: a malformed Authorization header (401), a body that is
        # not JSON (400), too large (413) or not valid (422), the rate limit (429), a store
        # that is down (503).
        everywhere = error_responses(400, 401, 413, 422, 429, 503)
        responses: Mapping[str, dict[int | str, dict[str, Any]] | None] = {
            "everywhere": everywhere,
            "accounts": everywhere | error_responses(403, 404, 409),
            "none": None,
        }
        with self._lock:
            for module in modules:
                if module.name in self._loaded:
                    continue
                router = importlib.import_module(f"lib.http.routes.{module.name}").router
                before = {id(r) for r in self._app.router.routes}
                self._app.include_router(router, prefix=API, responses=responses[module.responses])
                row = self._table.index(module)
                for route in self._app.router.routes:
                    if id(route) not in before:
                        self._order[id(route)] = row
                self._loaded.add(module.name)
            # Eager routes (the OpenAPI document) first, lazy ones in table order, mounts last;
            # a new list, so a request matching on another thread keeps a consistent one.
            self._app.router.routes = sorted(self._app.router.routes, key=self._rank)
            self._app.openapi_schema = None

    def _rank(self, route: object) -> int:
        if id(route) in self._order:
            return self._order[id(route)]
        return len(self._table) if getattr(route, "name", "") == "public" else -1
