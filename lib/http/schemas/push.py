"""Web Push subscriptions as the browser sends them, with the subscriber's preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lib.config import AlertLevel
from lib.http.schemas.fields import RegionName, RoleName, ServerId
from lib.push.keys import b64url_decode

P256DH_BYTES = 65
AUTH_BYTES = 16


def _https_endpoint(value: str) -> str:
    if not value.startswith("https://") or any(c.isspace() for c in value):
        raise ValueError("must be an https:// URL without spaces")
    if len(value) <= len("https://") or value[len("https://")] in "/?#":
        raise ValueError("must name a push service host")
    return value


def _key_of(size: int, *, point: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        try:
            raw = b64url_decode(value)
        except ValueError:
            raise ValueError("must be base64url") from None
        if len(raw) != size:
            raise ValueError(f"must decode to {size} bytes, got {len(raw)}")
        if point and raw[0] != 0x04:
            raise ValueError("must be an uncompressed P-256 point (first byte 0x04)")
        return value

    return AfterValidator(check)


Endpoint = Annotated[
    str,
    Field(min_length=9, max_length=2048, examples=["https://fcm.googleapis.com/fcm/send/…"]),
    AfterValidator(_https_endpoint),
]


class SubscriptionKeys(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    p256dh: Annotated[str, Field(max_length=200), _key_of(P256DH_BYTES, point=True)] = Field(
        description="The browser's P-256 public key, base64url (65 bytes)."
    )
    auth: Annotated[str, Field(max_length=100), _key_of(AUTH_BYTES)] = Field(
        description="The browser's auth secret, base64url (16 bytes)."
    )


class Preferences(BaseModel):
    """What a subscriber wants to hear about; empty lists mean everything."""

    model_config = ConfigDict(extra="forbid", strict=True)

    min_level: AlertLevel = Field("warning", description="Lowest level notified.")
    lang: Literal["ko", "en"] = Field("en", description="Language of titles and bodies.")
    servers: list[ServerId] = Field(default_factory=list, max_length=200)
    roles: list[RoleName] = Field(default_factory=list, max_length=20)
    regions: list[RegionName] = Field(default_factory=list, max_length=20)


class SubscribeRequest(BaseModel):
    """``PushSubscription.toJSON()`` plus preferences."""

    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint: Endpoint
    expirationTime: int | None = Field(None, description="As the browser sends it; unused.")  # noqa: N815
    keys: SubscriptionKeys
    preferences: Preferences | None = Field(
        None, description="Defaults, or those of the subscription ``replaces`` names."
    )
    replaces: Endpoint | None = Field(
        None,
        description="The endpoint this one renews (the service worker's pushsubscriptionchange):"
        " its preferences carry over and it is removed.",
    )
    label: str | None = Field(None, max_length=200, description="e.g. the device's name.")


class EndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint: Endpoint


class Subscription(BaseModel):
    """A stored subscription, keys left out."""

    endpoint: str
    label: str | None
    preferences: Preferences
    created_at: datetime
    last_sent_at: datetime | None
    failures: int


class VapidPublicKey(BaseModel):
    public_key: str = Field(description="applicationServerKey for PushManager.subscribe.")


class PushTestOutcome(BaseModel):
    status: Literal["sent", "gone", "retry_later", "failed"]
    code: int | None = Field(description="What the push service answered, if it answered.")
    subscription_removed: bool
