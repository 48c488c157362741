"""Web Push: the key browsers subscribe with, subscriptions, and a test notification.

- ``GET /api/push/vapid-public-key``: the ``applicationServerKey`` (404 while push is off);
- ``POST /api/push/subscriptions``: store the browser's ``PushSubscription`` and preferences,
  201 (re-subscribing the same endpoint replaces it);
- ``DELETE /api/push/subscriptions``: forget the subscription of ``endpoint``, 204;
- ``POST /api/push/test``: send a test notification to the subscription of ``endpoint`` now.

Whoever may read may subscribe: the endpoint is a capability URL only its browser knows, and
it is what names the subscription in the other calls. Keys never leave the server again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from lib.errors import NotFound, ValidationError
from lib.http.auth import Principal, read_access
from lib.http.reads import no_store
from lib.http.schemas.errors import error_responses
from lib.http.schemas.push import (
    EndpointRequest,
    Preferences,
    PushTestOutcome,
    SubscribeRequest,
    Subscription,
    VapidPublicKey,
)
from lib.http.state import AppState, get_state
from lib.store.db import PushSubscriptionRecord

router = APIRouter(prefix="/push", tags=["push"])

State = Annotated[AppState, Depends(get_state)]
Reader = Annotated[Principal | None, Depends(read_access)]
_ERRORS = error_responses(401, 403, 404, 422, 429, 503)


def _enabled(state: AppState) -> None:
    if not state.push.enabled:
        raise NotFound(
            "Web Push is off on this deployment: set VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY",
            feature="push",
        )


def _find(state: AppState, endpoint: str) -> PushSubscriptionRecord | None:
    subs = state.repo.list_push_subscriptions(limit=10_000)
    return next((s for s in subs if s.endpoint == endpoint), None)


def _public(record: PushSubscriptionRecord) -> Subscription:
    return Subscription(
        endpoint=record.endpoint,
        label=record.label,
        preferences=Preferences(
            min_level=record.min_level,
            lang=record.lang,
            servers=list(record.servers),
            roles=list(record.roles),  # type: ignore[arg-type]
            regions=list(record.regions),  # type: ignore[arg-type]
        ),
        created_at=record.created_at,
        last_sent_at=record.last_sent_at,
        failures=record.failures,
    )


@router.get("/vapid-public-key", responses=error_responses(404, 429))
def vapid_public_key(state: State, response: Response) -> VapidPublicKey:
    """The key ``PushManager.subscribe({applicationServerKey})`` needs."""
    _enabled(state)
    assert state.push.keys is not None
    response.headers["Cache-Control"] = "public, max-age=300"
    return VapidPublicKey(public_key=state.push.keys.public_key)


@router.post("/subscriptions", status_code=201, responses=_ERRORS)
def subscribe(
    body: SubscribeRequest, state: State, who: Reader, response: Response
) -> Subscription:
    """Store a subscription (a new one, a changed one, or one renewing ``replaces``)."""
    _enabled(state)
    previous = _find(state, body.replaces) if body.replaces else None
    prefs = body.preferences or (_public(previous).preferences if previous else Preferences())
    unknown = sorted(set(prefs.servers) - set(state.engine.fleet.ids))
    if unknown:
        raise ValidationError(
            f"unknown server ids: {', '.join(unknown[:5])}", field="preferences.servers"
        )
    record = PushSubscriptionRecord(
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        label=body.label if body.label is not None else (previous.label if previous else None),
        min_level=prefs.min_level,
        lang=prefs.lang,
        servers=tuple(prefs.servers),
        roles=tuple(prefs.roles),
        regions=tuple(prefs.regions),
        created_at=datetime.fromtimestamp(state.clock.now(), UTC),
    )
    state.repo.upsert_push_subscriptions([record])
    if previous is not None and previous.endpoint != record.endpoint:
        state.repo.delete_push_subscription(previous.endpoint)
    no_store(response)
    return _public(record)


@router.delete("/subscriptions", status_code=204, responses=_ERRORS)
def unsubscribe(body: EndpointRequest, state: State, who: Reader) -> Response:
    """Forget the subscription of ``endpoint`` (404 if there is none)."""
    if not state.repo.delete_push_subscription(body.endpoint):
        raise NotFound("no subscription with this endpoint", resource="push_subscription")
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.post("/test", responses=_ERRORS)
def send_test(
    body: EndpointRequest, state: State, who: Reader, response: Response
) -> PushTestOutcome:
    """Send a test notification to the subscription of ``endpoint`` and say how it went."""
    _enabled(state)
    outcome = state.push.send_test(body.endpoint)
    no_store(response)
    return PushTestOutcome(
        status=outcome.status, code=outcome.code, subscription_removed=outcome.status == "gone"
    )
