"""``GET /api/health``: version, bucket, and the reachability of each store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from lib.clock import MonotonicTimer
from lib.config import VERSION
from lib.errors import StoreError
from lib.http.state import AppState, get_state

router = APIRouter(tags=["health"])


class StoreHealth(BaseModel):
    backend: str
    reachable: bool
    latency_ms: float
    error: str | None = None


class KvHealth(StoreHealth):
    commands_sent: int
    round_trips: int


class DbHealth(StoreHealth):
    requests_sent: int
    outbox_depth: int | None = None


class PushHealth(BaseModel):
    enabled: bool
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    bucket: int
    bucket_seconds: int
    time: float
    kv: KvHealth
    db: DbHealth
    push: PushHealth


def _probe(ping: Callable[[], None]) -> tuple[bool, float, str | None]:
    timer = MonotonicTimer()
    try:
        ping()
    except StoreError as exc:
        return False, timer.elapsed_s() * 1000, exc.code
    return True, timer.elapsed_s() * 1000, None


@router.head("/health", include_in_schema=False)
@router.get("/health", response_model=Health)
def health(state: Annotated[AppState, Depends(get_state)], response: Response) -> Health:
    now = state.clock.now()
    kv_ok, kv_ms, kv_err = _probe(state.kv.ping)
    db_ok, db_ms, db_err = _probe(state.repo.ping)
    depth: int | None = None
    if kv_ok:
        try:
            depth = state.outbox.depth()
        except StoreError:
            depth = None
    response.headers["Cache-Control"] = "no-store"
    return Health(
        status="ok" if kv_ok and db_ok else "degraded",
        version=VERSION,
        bucket=state.buckets.bucket_of(now),
        bucket_seconds=state.settings.bucket_seconds,
        time=now,
        kv=KvHealth(
            backend=state.kv.backend,
            reachable=kv_ok,
            latency_ms=round(kv_ms, 3),
            error=kv_err,
            commands_sent=state.kv.commands_sent,
            round_trips=state.kv.round_trips,
        ),
        db=DbHealth(
            backend=state.settings.db_backend,
            reachable=db_ok,
            latency_ms=round(db_ms, 3),
            error=db_err,
            requests_sent=state.repo.requests_sent,
            outbox_depth=depth,
        ),
        push=PushHealth(enabled=state.push.enabled, detail=state.push.problem),
    )
