"""The one error shape, as a model, for the ``responses=`` of every route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine code, e.g. not_found, validation_error.")
    message: str = Field(description="What went wrong, for people.")
    details: dict[str, Any] = Field(
        description="Context: the offending field, the id asked for, problems of a validation."
    )


class ErrorBody(BaseModel):
    """``{"error": {"code", "message", "details"}}``: every error response of the API."""

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "The body is not JSON, or a preflight asked for what CORS does not allow.",
    401: "No credentials, or credentials that do not check out.",
    403: "Authenticated, but the role does not allow this.",
    404: "The server, incident or alert does not exist.",
    409: "The request contradicts the current state.",
    413: "The body is larger than this route takes.",
    422: "Input does not fit; details name the field.",
    429: "Too many requests; retry after Retry-After seconds.",
    503: "A store could not be reached.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for ``statuses``, each with the error shape."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in statuses}
