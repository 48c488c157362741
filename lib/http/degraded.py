"""Reads that outlive a database outage: what the database adds is left out, and said so.

The live state (the fleet now, open alerts, tracked incidents) is in the KV; the database
holds history. When a read's history query fails with a ``StoreError``, ``history`` gives the
read ``empty`` instead and marks the response: ``X-OpenManager-Degraded`` names what is
missing (comma-separated), and it is not cached (``no-store``), so the full answer returns as
soon as the database does. A read that is nothing but history (``/api/audit``) still fails
with its 503 (README, "During an outage").
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import Response

from lib.errors import StoreError
from lib.http.reads import no_store

log = logging.getLogger("openmanager.http")

DEGRADED_HEADER = "X-OpenManager-Degraded"


def history[T](response: Response, what: str, fetch: Callable[[], T], empty: T) -> T:
    """``fetch()``, or ``empty`` with ``what`` named as missing when the database fails."""
    try:
        return fetch()
    except StoreError as exc:
        log.warning("%s left out: %s (%s)", what, exc.code, exc.message)
        missing = [m for m in response.headers.get(DEGRADED_HEADER, "").split(", ") if m]
        if what not in missing:
            response.headers[DEGRADED_HEADER] = ", ".join([*missing, what])
        no_store(response)
        return empty
