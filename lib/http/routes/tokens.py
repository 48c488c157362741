"""``/api/tokens``: admins create (shown once), list and revoke API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from lib.http.audit import Audit
from lib.http.auth import Principal, require
from lib.http.credentials import Role
from lib.http.state import AppState, get_state
from lib.http.tokens import ApiToken, TokenName

router = APIRouter(prefix="/tokens", tags=["tokens"])

State = Annotated[AppState, Depends(get_state)]
Admin = Annotated[Principal, Depends(require("admin"))]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: TokenName = Field(description="What the token is for, e.g. 'grafana'.")
    role: Role


class CreatedToken(ApiToken):
    token: str = Field(description="The bearer token. Shown only in this response.")


@router.post("", status_code=201)
def create_token(body: NewToken, state: State, admin: Admin, audit: Audit) -> CreatedToken:
    token, record = state.tokens.create(body.name, body.role, created_by=admin.id)
    audit.record(
        "token.create", target=record.id, details={"name": record.name, "role": record.role}
    )
    return CreatedToken(**record.model_dump(), token=token)


@router.get("")
def list_tokens(state: State, admin: Admin, response: Response) -> list[ApiToken]:
    response.headers["Cache-Control"] = "no-store"
    return state.tokens.list_all()


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: str, state: State, admin: Admin, audit: Audit) -> Response:
    record = state.tokens.revoke(token_id)
    audit.record("token.revoke", target=record.id, details={"name": record.name})
    return Response(status_code=204)
