"""The push routes: the key, strict subscription validation, unsubscribe, the test button."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.push.keys import VapidKeys
from lib.store.sqlite_repository import SqliteRepository
from tests.integration.http.conftest import assert_error, https_client, named_fields
from tests.integration.push.conftest import push_app, push_settings, subscribe
from tests.support.push_service import PushService, b64url


def test_the_public_key_is_the_configured_one(client: TestClient, vapid: VapidKeys) -> None:
    response = client.get("/api/push/vapid-public-key")
    assert response.status_code == 200
    assert response.json() == {"public_key": vapid.public_key}
    assert len(base64.urlsafe_b64decode(vapid.public_key + "=")) == 65


def test_health_says_push_is_on(client: TestClient) -> None:
    assert client.get("/api/health").json()["push"] == {"enabled": True, "detail": None}


def test_without_keys_push_is_off_and_the_rest_works(tmp_path: Path, clock: FixedClock) -> None:
    from tests.integration.http.conftest import make_settings

    with https_client(push_app(make_settings(tmp_path), clock)) as client:
        health = client.get("/api/health").json()
        key = client.get("/api/push/vapid-public-key")
        fleet = client.get("/api/fleet")
    assert health["push"]["enabled"] is False
    assert "VAPID_PRIVATE_KEY" in health["push"]["detail"]
    assert assert_error(key, 404, "not_found")["details"]["feature"] == "push"
    assert fleet.status_code == 200


def test_a_key_pair_that_does_not_match_turns_push_off(
    tmp_path: Path, clock: FixedClock, vapid: VapidKeys
) -> None:
    from lib.push.keys import generate

    other = generate(vapid.subject)
    settings = push_settings(tmp_path, vapid, vapid_public_key=other.public_key)
    with https_client(push_app(settings, clock)) as client:
        health = client.get("/api/health").json()
    assert health["push"]["enabled"] is False
    assert "VAPID_PUBLIC_KEY" in health["push"]["detail"]


def _body(push_service: PushService, **changes: Any) -> dict[str, Any]:
    body = push_service.subscribe().to_json()
    keys = body["keys"] | changes.pop("keys", {})
    return body | {"keys": keys} | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"endpoint": "http://push.example/send/1"}, "endpoint"),
        ({"endpoint": "https:///nohost"}, "endpoint"),
        ({"endpoint": "https://push.example/a b"}, "endpoint"),
        ({"keys": {"p256dh": b64url(b"\x04" + bytes(63))}}, "keys.p256dh"),
        ({"keys": {"p256dh": b64url(b"\x02" + bytes(64))}}, "keys.p256dh"),
        ({"keys": {"p256dh": "not base64url!"}}, "keys.p256dh"),
        ({"keys": {"auth": b64url(bytes(15))}}, "keys.auth"),
        ({"keys": {"auth": b64url(bytes(17))}}, "keys.auth"),
        ({"preferences": {"min_level": "loud"}}, "preferences.min_level"),
        ({"preferences": {"lang": "fr"}}, "preferences.lang"),
        ({"preferences": {"roles": ["mainframe"]}}, "preferences.roles.0"),
        ({"preferences": {"servers": ["web-99"]}}, "preferences.servers"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_subscriptions_are_validated_strictly(
    client: TestClient,
    push_service: PushService,
    repo: SqliteRepository,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = client.post("/api/push/subscriptions", json=_body(push_service, **changes))
    assert field in named_fields(assert_error(response, 422, "validation_error"))
    assert repo.list_push_subscriptions() == []


def test_subscribing_stores_preferences_and_never_returns_keys(
    client: TestClient, push_service: PushService, repo: SqliteRepository
) -> None:
    sub = push_service.subscribe()
    stored = subscribe(
        client, sub, min_level="error", lang="ko", servers=["db-01"], regions=["ap-northeast-2"]
    )
    assert "keys" not in stored
    assert "p256dh" not in str(stored)
    assert stored["preferences"]["servers"] == ["db-01"]
    [record] = repo.list_push_subscriptions()
    assert (record.p256dh, record.auth, record.lang) == (sub.p256dh, sub.auth, "ko")
    assert (record.min_level, record.servers, record.regions) == (
        "error",
        ("db-01",),
        ("ap-northeast-2",),
    )


def test_a_renewed_subscription_keeps_the_old_preferences(
    client: TestClient, push_service: PushService, repo: SqliteRepository
) -> None:
    old, new = push_service.subscribe(), push_service.subscribe()
    subscribe(client, old, min_level="critical", lang="ko")
    response = client.post(
        "/api/push/subscriptions", json=new.to_json() | {"replaces": old.endpoint}
    )
    assert response.status_code == 201
    [record] = repo.list_push_subscriptions()
    assert (record.endpoint, record.min_level, record.lang) == (new.endpoint, "critical", "ko")


def test_unsubscribe_forgets_the_endpoint(
    client: TestClient, push_service: PushService, repo: SqliteRepository
) -> None:
    sub = push_service.subscribe()
    subscribe(client, sub)
    first = client.request("DELETE", "/api/push/subscriptions", json={"endpoint": sub.endpoint})
    again = client.request("DELETE", "/api/push/subscriptions", json={"endpoint": sub.endpoint})
    assert first.status_code == 204
    assert again.status_code == 404
    assert repo.list_push_subscriptions() == []


def test_the_test_button_sends_one_decrypted_notification(
    client: TestClient, push_service: PushService, vapid: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    subscribe(client, sub, lang="ko")
    response = client.post("/api/push/test", json={"endpoint": sub.endpoint})
    assert response.json() == {"status": "sent", "code": 201, "subscription_removed": False}
    [payload] = push_service.payloads(sub.endpoint)
    assert (payload["kind"], payload["lang"]) == ("test", "ko")
    assert payload["title"] == "OpenManager 테스트 알림"


def test_the_test_button_on_a_gone_subscription_removes_it(
    client: TestClient, push_service: PushService, vapid: VapidKeys, repo: SqliteRepository
) -> None:
    sub = push_service.subscribe(vapid.public_key)
    subscribe(client, sub)
    push_service.reply(404, endpoint=sub.endpoint)
    response = client.post("/api/push/test", json={"endpoint": sub.endpoint})
    unknown = client.post("/api/push/test", json={"endpoint": sub.endpoint})
    assert response.json() == {"status": "gone", "code": 404, "subscription_removed": True}
    assert repo.list_push_subscriptions() == []
    assert unknown.status_code == 404
