"""The PostgREST-subset test server answers as PostgREST does, on the wire (plain httpx)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.postgres_service import SERVICE_ROLE_KEY
from tests.support.postgrest_server import PostgrestServer

SUBSCRIPTION = {"p256dh": "k", "auth": "a", "min_level": "warning"}


def sub(n: int, **changes: object) -> dict[str, object]:
    created = f"2026-03-01T12:{n:02d}:00Z"
    return {
        "endpoint": f"https://push.example/{n}",
        "created_at": created,
        **SUBSCRIPTION,
    } | changes


@pytest.fixture
def client(postgrest_db: PostgrestServer) -> Iterator[httpx.Client]:
    headers = {"apikey": SERVICE_ROLE_KEY, "Authorization": f"Bearer {SERVICE_ROLE_KEY}"}
    with httpx.Client(base_url=f"{postgrest_db.url}/rest/v1", headers=headers) as http:
        yield http


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert set(response.json()) == {"code", "details", "hint", "message"}
    assert response.json()["code"] == code


def test_wrong_or_missing_key_is_401(postgrest_db: PostgrestServer) -> None:
    url = f"{postgrest_db.url}/rest/v1/alerts"
    wrong = {"apikey": "nope", "Authorization": "Bearer nope"}

    assert_error(httpx.get(url, headers=wrong), 401, "PGRST301")
    assert_error(httpx.get(url), 401, "PGRST301")
    assert "nope" not in httpx.get(url, headers=wrong).text


def test_unknown_table_column_or_operator_is_refused(client: httpx.Client) -> None:
    assert_error(client.get("/nope"), 404, "PGRST205")
    assert_error(client.get("/alerts", params={"select": "id,nope"}), 400, "42703")
    assert_error(client.get("/alerts", params={"id": "like.x"}), 400, "PGRST100")
    assert_error(client.post("/alerts", json={"nope": 1}), 400, "PGRST204")
    assert_error(client.get("/alerts", headers={"Accept-Profile": "other"}), 406, "PGRST106")


def test_insert_resolutions_and_conflicts(client: httpx.Client) -> None:
    created = client.post("/push_subscriptions", json=[sub(1), sub(2)])
    duplicate = client.post("/push_subscriptions", json=sub(1))
    ignored = client.post(
        "/push_subscriptions",
        json=[sub(1, auth="changed")],
        headers={"Prefer": "return=representation,resolution=ignore-duplicates"},
    )
    merged = client.post(
        "/push_subscriptions",
        params={
            "on_conflict": "endpoint",
            "columns": '"endpoint","auth","p256dh","created_at","min_level"',
        },
        json=[sub(2, auth="changed", min_level="info", label="not in columns")],
        headers={"Prefer": "return=representation,resolution=merge-duplicates"},
    )

    assert (created.status_code, created.content) == (201, b"")
    assert_error(duplicate, 409, "23505")
    assert (ignored.status_code, ignored.json()) == (201, [])
    (row,) = merged.json()
    assert (row["auth"], row["min_level"], row["label"]) == ("changed", "info", None)
    assert row["created_at"] == "2026-03-01T12:02:00+00:00"


def test_filters_order_paging_and_exact_count(client: httpx.Client) -> None:
    labels = ["a,b", None, 'q"uote']
    rows = [sub(n, label=label) for n, label in enumerate(labels)]
    client.post("/push_subscriptions", json=rows)

    def endpoints(**params: str) -> list[str]:
        response = client.get("/push_subscriptions", params={"select": "endpoint", **params})
        return [row["endpoint"] for row in response.json()]

    assert endpoints(label='in.("a,b","q\\"uote")', order="created_at.desc") == [
        "https://push.example/2",
        "https://push.example/0",
    ]
    assert endpoints(label="is.null") == ["https://push.example/1"]
    assert endpoints(created_at="not.gte.2026-03-01T12:01:00Z") == ["https://push.example/0"]
    assert endpoints(order="label.asc.nullsfirst", limit="1") == ["https://push.example/1"]
    page = client.get("/push_subscriptions", params={"offset": "1", "limit": "1"})
    page_with_count = client.get(
        "/push_subscriptions",
        params={"order": "endpoint", "offset": "1", "limit": "1"},
        headers={"Prefer": "count=exact"},
    )
    assert page.headers["content-range"] == "1-1/*"
    assert page_with_count.status_code == 206
    assert page_with_count.headers["content-range"] == "1-1/3"


def test_patch_and_delete_report_counts(client: httpx.Client) -> None:
    client.post("/push_subscriptions", json=[sub(1), sub(2)])
    counted = {"Prefer": "return=minimal,count=exact"}

    patched = client.patch(
        "/push_subscriptions", params={"endpoint": "eq.https://push.example/1"}, json={"auth": "x"}
    )
    deleted = client.delete("/push_subscriptions", params={"auth": "eq.a"}, headers=counted)

    assert patched.status_code == 204
    assert (deleted.status_code, deleted.headers["content-range"]) == (204, "*/1")
    assert client.get("/push_subscriptions").json()[0]["auth"] == "x"


def test_reads_are_capped_at_max_rows(postgrest_db: PostgrestServer) -> None:
    with PostgrestServer(postgrest_db.dsn, SERVICE_ROLE_KEY, max_rows=2) as capped:
        headers = {"apikey": SERVICE_ROLE_KEY, "Authorization": f"Bearer {SERVICE_ROLE_KEY}"}
        url = f"{capped.url}/rest/v1/push_subscriptions"
        httpx.post(url, json=[sub(n) for n in range(3)], headers=headers)

        assert len(httpx.get(url, headers=headers).json()) == 2
        assert len(httpx.get(url, params={"limit": "10"}, headers=headers).json()) == 2
