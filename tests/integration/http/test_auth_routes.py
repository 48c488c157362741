"""Login, sessions, CSRF, TOTP and user management through the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib.clock import FixedClock
from lib.http.sessions import CSRF_COOKIE, SESSION_COOKIE
from tests.integration.http.conftest import (
    ADMIN,
    CRON_SECRET,
    NOW,
    PASSWORD,
    assert_error,
    bearer,
    create_user,
    https_client,
    log_in,
    mint_token,
    state_of,
)


def _set_cookies(response: object) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def _actions(app: FastAPI) -> list[str]:
    """The audited actions, sorted: entries at the same (fixed-clock) instant have no order."""
    return sorted(e.action for e in state_of(app).repo.list_audit_entries(limit=1000))


def test_me_without_credentials_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/auth/me")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_names_each_kind_of_bearer(client: TestClient) -> None:
    assert client.get("/api/auth/me", headers=ADMIN).json() == {
        "id": "admin-token",
        "name": "ADMIN_TOKEN",
        "role": "admin",
        "via": "admin_token",
    }
    cron = client.get("/api/auth/me", headers=bearer(CRON_SECRET)).json()
    assert (cron["via"], cron["role"]) == ("cron_secret", None)
    token = mint_token(client, "operator", name="grafana")
    me = client.get("/api/auth/me", headers=bearer(token)).json()
    assert (me["name"], me["role"], me["via"]) == ("grafana", "operator", "api_token")
    assert me["id"].startswith("token:")


def test_wrong_bearer_and_other_schemes_are_401(client: TestClient) -> None:
    assert_error(client.get("/api/auth/me", headers=bearer("om_nope")), 401, "unauthorized")
    assert_error(client.get("/api/auth/me", headers=bearer("x" * 40)), 401, "unauthorized")
    basic = client.get("/api/auth/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert "Bearer" in assert_error(basic, 401, "unauthorized")["message"]


def test_login_sets_hardened_cookies_and_a_session(app: FastAPI, client: TestClient) -> None:
    create_user(client, "alice", "operator")
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["role"]) == ("alice", "operator")
    assert response.headers["Cache-Control"] == "no-store"
    cookies = _set_cookies(response)
    session, csrf = cookies[SESSION_COOKIE].lower(), cookies[CSRF_COOKIE].lower()
    for attribute in ("secure", "samesite=strict", "max-age=43200"):
        assert attribute in session
        assert attribute in csrf
    assert "httponly" in session
    assert "path=/api" in session
    assert "httponly" not in csrf
    assert "path=/;" in csrf + ";"
    assert client.cookies[CSRF_COOKIE] == body["csrf_token"]
    me = client.get("/api/auth/me").json()
    assert me == {"id": "user:alice", "name": "alice", "role": "operator", "via": "session"}
    # Only the fingerprint of the session id is a KV key.
    assert state_of(app).kv.get(f"om:session:{client.cookies[SESSION_COOKIE]}") is None


def test_login_failures_do_not_reveal_whether_the_user_exists(client: TestClient) -> None:
    create_user(client, "alice", "viewer")
    wrong_password = client.post("/api/auth/login", json={"username": "alice", "password": "x"})
    no_such_user = client.post("/api/auth/login", json={"username": "bob", "password": "x"})
    malformed = client.post("/api/auth/login", json={"username": "B O B", "password": "x"})
    errors = [
        assert_error(r, 401, "unauthorized") for r in (wrong_password, no_such_user, malformed)
    ]
    assert errors[0] == errors[1] == errors[2]
    assert SESSION_COOKIE not in client.cookies


def test_totp_is_required_once_enrolled_and_codes_cannot_be_replayed(
    client: TestClient, clock: FixedClock
) -> None:
    created = create_user(client, "carol", "admin", totp=True)
    uri = created["totp_provisioning_uri"]
    assert uri.startswith("otpauth://totp/")
    assert "issuer=OpenManager" in uri
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    credentials = {"username": "carol", "password": PASSWORD}

    missing = client.post("/api/auth/login", json=credentials)
    assert assert_error(missing, 401, "unauthorized")["details"] == {"totp_required": True}
    wrong_code = f"{(int(pyotp.TOTP(secret).at(NOW)) + 1) % 1_000_000:06d}"
    wrong = client.post("/api/auth/login", json={**credentials, "totp": wrong_code})
    assert "totp_required" not in assert_error(wrong, 401, "unauthorized")["details"]
    assert_error(
        client.post("/api/auth/login", json={**credentials, "totp": "12ab56"}),
        422,
        "validation_error",
    )

    code = pyotp.TOTP(secret).at(NOW)
    assert log_in(client, "carol", totp=code).csrf
    assert_error(
        client.post("/api/auth/login", json={**credentials, "totp": code}), 401, "unauthorized"
    )
    clock.advance(30)
    assert log_in(client, "carol", totp=pyotp.TOTP(secret).at(clock.now())).csrf


def test_a_wrong_password_with_a_right_totp_code_says_nothing_about_totp(
    client: TestClient,
) -> None:
    uri = create_user(client, "dave", "viewer", totp=True)["totp_provisioning_uri"]
    code = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0]).at(NOW)
    response = client.post(
        "/api/auth/login", json={"username": "dave", "password": "nope", "totp": code}
    )
    assert assert_error(response, 401, "unauthorized")["details"] == {}


def test_cookie_mutations_need_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    create_user(client, "erin", "admin")
    browser = log_in(client, "erin")
    new_token = {"name": "from-dashboard", "role": "viewer"}
    without = client.post("/api/tokens", json=new_token)
    assert assert_error(without, 403, "forbidden")["details"]["reason"] == "csrf"
    wrong = client.post("/api/tokens", json=new_token, headers={"X-CSRF-Token": "guess"})
    assert_error(wrong, 403, "forbidden")
    assert (
        client.post("/api/tokens", json=new_token, headers=browser.csrf_header).status_code == 201
    )
    # Reads need no token; neither do bearer requests, which a browser never sends by itself.
    assert client.get("/api/tokens").status_code == 200
    with https_client(app) as other:
        assert other.post("/api/tokens", json=new_token, headers=ADMIN).status_code == 201


def test_logout_needs_csrf_then_ends_the_session(app: FastAPI, client: TestClient) -> None:
    create_user(client, "frank", "viewer")
    browser = log_in(client, "frank")
    assert_error(client.post("/api/auth/logout"), 403, "forbidden")
    response = client.post("/api/auth/logout", headers=browser.csrf_header)
    assert response.status_code == 204
    cleared = _set_cookies(response)
    assert "max-age=0" in cleared[SESSION_COOKIE].lower()
    assert "max-age=0" in cleared[CSRF_COOKIE].lower()
    assert_error(client.get("/api/auth/me"), 401, "unauthorized")
    assert_error(client.post("/api/auth/logout"), 401, "unauthorized")
    assert _actions(app) == ["auth.login", "auth.logout", "user.create"]


def test_user_management_is_for_admins(client: TestClient) -> None:
    new_user = {"username": "gina", "password": PASSWORD, "role": "viewer"}
    assert_error(client.post("/api/auth/users", json=new_user), 401, "unauthorized")
    operator = bearer(mint_token(client, "operator"))
    assert_error(client.post("/api/auth/users", json=new_user, headers=operator), 403, "forbidden")
    assert_error(client.get("/api/auth/users", headers=operator), 403, "forbidden")
    assert_error(client.delete("/api/auth/users/gina", headers=operator), 403, "forbidden")


def test_create_list_and_delete_users(app: FastAPI, client: TestClient) -> None:
    created = create_user(client, "hank", "operator")
    assert created["created_by"] == "admin-token"
    assert created["totp_provisioning_uri"] is None
    duplicate = {"username": "hank", "password": PASSWORD, "role": "viewer"}
    assert_error(client.post("/api/auth/users", json=duplicate, headers=ADMIN), 409, "conflict")
    listed = client.get("/api/auth/users", headers=ADMIN).json()
    assert [u["username"] for u in listed] == ["hank"]
    assert set(listed[0]) == {"username", "role", "created_at", "created_by", "totp_enabled"}

    with https_client(app) as browser_client:
        log_in(browser_client, "hank")
        assert browser_client.get("/api/auth/me").status_code == 200
        assert client.delete("/api/auth/users/hank", headers=ADMIN).status_code == 204
        assert_error(browser_client.get("/api/auth/me"), 401, "unauthorized")
    assert_error(client.delete("/api/auth/users/hank", headers=ADMIN), 404, "not_found")
    assert client.get("/api/auth/users", headers=ADMIN).json() == []


def test_user_input_is_validated_field_by_field(client: TestClient) -> None:
    short = {"username": "ivan", "password": "short", "role": "viewer"}
    error = assert_error(
        client.post("/api/auth/users", json=short, headers=ADMIN), 422, "validation_error"
    )
    assert [p["field"] for p in error["details"]["problems"]] == ["password"]
    bad_role = {"username": "ivan", "password": PASSWORD, "role": "root"}
    error = assert_error(
        client.post("/api/auth/users", json=bad_role, headers=ADMIN), 422, "validation_error"
    )
    assert [p["field"] for p in error["details"]["problems"]] == ["role"]
    assert PASSWORD not in str(error)


def test_every_auth_mutation_is_audited(app: FastAPI, client: TestClient) -> None:
    create_user(client, "judy", "viewer")
    client.post("/api/auth/login", json={"username": "judy", "password": "wrong"})
    browser = log_in(client, "judy")
    client.post("/api/auth/logout", headers=browser.csrf_header)
    client.delete("/api/auth/users/judy", headers=ADMIN)
    assert _actions(app) == sorted(
        ["user.create", "auth.login_failed", "auth.login", "auth.logout", "user.delete"]
    )
    entries = {e.action: e for e in state_of(app).repo.list_audit_entries(limit=100)}
    assert (entries["user.create"].actor, entries["user.create"].role) == ("admin-token", "admin")
    assert entries["user.create"].target == "judy"
    assert (entries["auth.login"].actor, entries["auth.login"].role) == ("user:judy", "viewer")
    assert entries["auth.login_failed"].actor == "anonymous"
    assert entries["auth.login_failed"].details["username"] == "judy"
    assert entries["auth.logout"].actor == "user:judy"
    for entry in entries.values():
        assert PASSWORD not in entry.model_dump_json()
        assert "wrong" not in entry.model_dump_json()
