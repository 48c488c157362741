"""The local push service refuses what a real one refuses, so a sender bug cannot pass the
end-to-end tests: VAPID tokens (signature against ``k``, ``aud``, ``exp``), the key a
subscription was made with, the headers, and bodies it cannot decrypt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException, webpush

from lib.clock import monotonic
from lib.push.keys import VapidKeys, generate
from lib.push.sender import PushSender
from lib.store.db import PushSubscriptionRecord
from tests.support.push_service import BrowserSubscription, PushService

DATA = json.dumps({"title": "Incident", "tag": "inc-1"}).encode()


@pytest.fixture
def second_service(
    push_service: PushService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PushService]:
    """Another push service, on another origin, trusted like the first."""
    with PushService() as other:
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(
            Path(push_service.ca_file).read_bytes() + Path(other.ca_file).read_bytes()
        )
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield other


def claims(service: PushService, **changes: Any) -> dict[str, Any]:
    return {
        "sub": "mailto:ops@openmanager.example",
        "aud": service.origin,
        "exp": int(time.time()) + 3600,
    } | changes


def post(
    sub: BrowserSubscription,
    vapid: VapidKeys,
    token_claims: dict[str, Any],
    *,
    k: str | None = None,
    body_for: BrowserSubscription | None = None,
    **headers: str,
) -> requests.Response:
    """A push as pywebpush builds it, with parts of it changed."""
    signer = Vapid02(vapid.signing_key())
    token = signer.sign(token_claims)["Authorization"].split("t=")[1].split(",")[0]
    target = body_for or sub
    encoded = WebPusher(target.to_json()).encode(DATA, content_encoding="aes128gcm")
    sent = {
        "Authorization": f"vapid t={token},k={k or vapid.public_key}",
        "Content-Encoding": "aes128gcm",
        "TTL": "60",
    } | headers
    return requests.post(sub.endpoint, data=encoded["body"], headers=sent, timeout=5)


def test_a_well_formed_push_is_decrypted_and_recorded(
    push_service: PushService, vapid: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    response = post(sub, vapid, claims(push_service), Urgency="high", Topic="inc-1")
    assert response.status_code == 201
    assert response.headers["Location"].startswith(f"{push_service.origin}/message/")
    [received] = push_service.received
    assert received.payload == json.loads(DATA)
    assert (received.ttl, received.urgency, received.topic) == (60, "high", "inc-1")
    assert received.claims["aud"] == push_service.origin


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "https://push.example"}, "bad VAPID token"),
        ({"exp": int(time.time()) - 60}, "bad VAPID token"),
        ({"exp": int(time.time()) + 25 * 3600}, "more than 24 h"),
    ],
)
def test_tokens_with_wrong_claims_are_refused(
    push_service: PushService, vapid: VapidKeys, changes: dict[str, Any], reason: str
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    response = post(sub, vapid, claims(push_service, **changes))
    assert response.status_code == 401
    assert reason in push_service.rejected[0][2]
    assert push_service.received == []


def test_a_token_not_signed_by_k_is_refused(push_service: PushService, vapid: VapidKeys) -> None:
    sub = push_service.subscribe()
    other = generate(vapid.subject)
    response = post(sub, vapid, claims(push_service), k=other.public_key)
    assert response.status_code == 401
    assert "bad VAPID token" in push_service.rejected[0][2]


def test_a_key_other_than_the_subscriptions_is_forbidden(
    push_service: PushService, vapid: VapidKeys
) -> None:
    sub = push_service.subscribe(generate(vapid.subject).public_key)
    assert post(sub, vapid, claims(push_service)).status_code == 403


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"TTL": "soon"}, "TTL"),
        ({"Urgency": "urgent"}, "Urgency"),
        ({"Topic": "x" * 33}, "Topic"),
        ({"Content-Encoding": "aesgcm"}, "aes128gcm"),
    ],
)
def test_bad_headers_are_refused(
    push_service: PushService, vapid: VapidKeys, headers: dict[str, str], reason: str
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    assert post(sub, vapid, claims(push_service), **headers).status_code == 400
    assert reason in push_service.rejected[0][2]


def test_a_body_encrypted_for_another_browser_is_refused(
    push_service: PushService, vapid: VapidKeys
) -> None:
    sub, other = push_service.subscribe(), push_service.subscribe()
    assert post(sub, vapid, claims(push_service), body_for=other).status_code == 400
    assert "cannot decrypt" in push_service.rejected[0][2]


@pytest.mark.parametrize("status", [404, 410, 429])
def test_it_answers_what_it_is_told(
    push_service: PushService, vapid: VapidKeys, status: int
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    push_service.reply(status, endpoint=sub.endpoint, retry_after=30, times=1)
    first = post(sub, vapid, claims(push_service))
    again = post(sub, vapid, claims(push_service))
    assert first.status_code == status
    assert first.headers.get("Retry-After") == "30"
    assert again.status_code == 201


def test_one_claims_dict_shared_across_push_services_is_caught(
    push_service: PushService, second_service: PushService, vapid: VapidKeys
) -> None:
    """pywebpush writes ``aud`` into the claims it is given and keeps it: reusing the dict
    sends the first service's origin to the second, which refuses the push. ``PushSender``
    makes a new dict for every push."""
    first, second = push_service.subscribe(), second_service.subscribe()
    shared = {"sub": "mailto:ops@openmanager.example"}
    key = Vapid02(vapid.signing_key())
    webpush(first.to_json(), DATA.decode(), vapid_private_key=key, vapid_claims=shared, timeout=5)
    with pytest.raises(WebPushException) as refused:
        webpush(
            second.to_json(), DATA.decode(), vapid_private_key=key, vapid_claims=shared, timeout=5
        )
    assert refused.value.response is not None
    assert refused.value.response.status_code == 401

    sender = PushSender(vapid, timeout_s=5)
    for sub in (first, second):
        record = PushSubscriptionRecord(
            endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, created_at=datetime.now(UTC)
        )
        outcome = sender.send(record, DATA, 60, {"Urgency": "low"}, monotonic() + 5)
        assert outcome.status == "sent", outcome
    assert len(second_service.received) == 1


def test_a_hanging_service_holds_the_request_until_the_client_gives_up(
    push_service: PushService, vapid: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    push_service.reply("hang")
    signer = Vapid02(vapid.signing_key())
    started = monotonic()
    with pytest.raises(requests.Timeout):
        webpush(
            sub.to_json(),
            DATA.decode(),
            vapid_private_key=signer,
            vapid_claims=claims(push_service),
            timeout=0.5,
        )
    assert 0.5 <= monotonic() - started < 2.0
    assert push_service.hung == 1
