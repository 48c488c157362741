"""Dashboard login: ``/api/auth/login``, ``/logout``, ``/me``, and admins' ``/users``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lib.errors import AuthError
from lib.http.audit import Audit
from lib.http.auth import Principal, principal, require
from lib.http.credentials import Role, Via
from lib.http.ratelimit import login_rate_limit
from lib.http.sessions import (
    SESSION_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from lib.http.state import AppState, get_state
from lib.http.users import NewUser, TotpCode, User

router = APIRouter(prefix="/auth", tags=["auth"])

State = Annotated[AppState, Depends(get_state)]
Admin = Annotated[Principal, Depends(require("admin"))]


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # Loose on purpose: a malformed username must read like a wrong one, not a 422.
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=256)
    totp: TotpCode | None = Field(None, description="The 6-digit code, when TOTP is enrolled.")


class LoggedIn(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="Echo in X-CSRF-Token on POST/PUT/PATCH/DELETE.")
    expires_at: datetime


class Me(BaseModel):
    id: str
    name: str
    role: Role | None
    via: Via


class CreatedUser(User):
    totp_provisioning_uri: str | None = Field(
        None, description="otpauth:// URI for an authenticator app; shown only now."
    )


@router.post("/login", dependencies=[Depends(login_rate_limit)])
def login(body: Login, state: State, response: Response, audit: Audit) -> LoggedIn:
    """Check the password (and TOTP code); set the session and CSRF cookies."""
    try:
        user = state.users.verify(body.username, body.password, body.totp)
    except AuthError as exc:
        audit.record(
            "auth.login_failed", details={"username": body.username[:64], "reason": exc.message}
        )
        raise
    session_id, session = state.sessions.open(user)
    set_session_cookies(response, session_id, session)
    response.headers["Cache-Control"] = "no-store"
    audit.record("auth.login", actor=f"user:{user.username}", role=user.role)
    return LoggedIn(
        username=user.username,
        role=user.role,
        csrf_token=session.csrf,
        expires_at=session.expires_at,
    )


@router.post("/logout", status_code=204)
def logout(
    request: Request,
    state: State,
    who: Annotated[Principal, Depends(require("viewer"))],
    audit: Audit,
) -> Response:
    """End the dashboard session (a bearer token has none to end) and clear its cookies."""
    response = Response(status_code=204)
    if who.via == "session":
        state.sessions.close(request.cookies[SESSION_COOKIE], who.name)
        audit.record("auth.logout")
    clear_session_cookies(response)
    return response


@router.get("/me")
def me(who: Annotated[Principal | None, Depends(principal)], response: Response) -> Me:
    """Who the credentials of this request belong to."""
    if who is None:
        raise AuthError("authentication required")
    response.headers["Cache-Control"] = "no-store"
    return Me(id=who.id, name=who.name, role=who.role, via=who.via)


@router.post("/users", status_code=201)
def create_user(body: NewUser, state: State, admin: Admin, audit: Audit) -> CreatedUser:
    """Create a dashboard user; with ``totp`` the provisioning URI is returned once."""
    user, uri = state.users.create(body, created_by=admin.id)
    audit.record(
        "user.create", target=user.username, details={"role": user.role, "totp": uri is not None}
    )
    return CreatedUser(**user.model_dump(), totp_provisioning_uri=uri)


@router.get("/users")
def list_users(state: State, admin: Admin) -> list[User]:
    return state.users.list_all()


@router.delete("/users/{username}", status_code=204)
def delete_user(username: str, state: State, admin: Admin, audit: Audit) -> Response:
    """Delete a user and end their sessions."""
    user = state.users.delete(username)
    ended = state.sessions.close_all(user.username)
    audit.record("user.delete", target=user.username, details={"sessions_ended": ended})
    return Response(status_code=204)
