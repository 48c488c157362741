"""Deterministic ids: racing stateless writers that decide the same alert write the same row."""

from __future__ import annotations

from lib.errors import ValidationError


def _check(bucket: int, *parts: str) -> None:
    if bucket < 0:
        raise ValidationError(f"bucket must be >= 0, got {bucket}", field="bucket")
    if any(not p for p in parts):
        raise ValidationError("id parts must be non-empty", field="server_id")


def alert_id(server_id: str, metric: str, fired_bucket: int) -> str:
    """``al-<server>-<metric>-<fired bucket>``, e.g. ``al-db-01-response_ms-1234``."""
    _check(fired_bucket, server_id, metric)
    return f"al-{server_id}-{metric}-{fired_bucket}"


def group_id(server_id: str, opened_bucket: int) -> str:
    """``grp-<first server>-<bucket opened>``: stable while members join and the root moves."""
    _check(opened_bucket, server_id)
    return f"grp-{server_id}-{opened_bucket}"
