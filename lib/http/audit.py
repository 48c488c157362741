"""The audit log: one entry per mutation, written through the outbox to the Repository.

A route takes ``audit: Audit`` and, after the change succeeded, calls
``audit.record("token.create", target=token.id, details={"role": "operator"})``. The entry
names the principal (``user:alice``, ``token:<id>``, ``admin-token``, ``cron``), its role and
the client address. A database outage queues the entry in the KV outbox, and copies it to
the log (``openmanager.audit``) so that losing the KV does not lose it (``queued_entries``
reads them back from exported logs, ``scripts/replay_audit.py`` writes them, by id, once);
only when neither store takes it does ``record`` raise ``StoreError`` (503).

Details must not carry secrets: tokens, passwords and TOTP secrets never go in.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import JsonValue, ValidationError

from lib.http.auth import principal
from lib.http.client_ip import client_ip
from lib.http.credentials import Principal
from lib.http.state import AppState, get_state
from lib.store.db import AuditEntry

log = logging.getLogger("openmanager.audit")

WRITE_OP = "insert_audit_entries"
ANONYMOUS = "anonymous"
QUEUED = "audit entry queued: "
"""Prefix of the log line that keeps a queued entry, as JSON, until the database has it."""


def write_audit(
    state: AppState,
    *,
    actor: str,
    role: str,
    action: str,
    target: str | None = None,
    client_ip: str | None = None,
    details: Mapping[str, JsonValue] | None = None,
) -> AuditEntry:
    """Write one audit entry now, or queue it in the outbox; returns it."""
    entry = AuditEntry(
        id=uuid.uuid4(),
        at=datetime.fromtimestamp(state.clock.now(), UTC),
        actor=actor,
        role=role,
        action=action,
        target=target,
        client_ip=client_ip,
        details=dict(details or {}),
    )
    if not state.outbox.write(state.repo, WRITE_OP, [entry]):
        # Queued in the KV, which may yet lose it (a Redis restarted empty): the log keeps a
        # copy, the entry as JSON, from which it can be restored (replays are keyed by id).
        log.warning("%s%s", QUEUED, entry.model_dump_json())
    return entry


def queued_entries(lines: Iterable[str]) -> tuple[list[AuditEntry], list[int]]:
    """The audit entries kept in plain-text log ``lines`` (as ``vercel logs`` prints them: the
    JSON follows ``QUEUED`` to the end of the line, whatever precedes it), and the numbers
    (from 1) of the lines that held one unreadably."""
    entries: list[AuditEntry] = []
    unreadable: list[int] = []
    for number, line in enumerate(lines, start=1):
        _, found, rest = line.partition(QUEUED)
        if not found:
            continue
        try:
            entries.append(AuditEntry.model_validate_json(rest.strip()))
        except ValidationError:
            unreadable.append(number)
    return entries, unreadable


@dataclass(frozen=True)
class Auditor:
    """``write_audit`` bound to one request's state, principal and client address."""

    state: AppState
    principal: Principal | None
    client_ip: str

    def record(
        self,
        action: str,
        target: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
        *,
        actor: str | None = None,
        role: str | None = None,
    ) -> AuditEntry:
        """Audit ``action`` on ``target``. ``actor`` and ``role`` name who acted when the
        request carried no credentials (a login)."""
        who = self.principal
        return write_audit(
            self.state,
            actor=actor or (who.id if who else ANONYMOUS),
            role=role or ((who.role or who.via) if who else ANONYMOUS),
            action=action,
            target=target,
            client_ip=self.client_ip,
            details=details,
        )


def auditor(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    who: Annotated[Principal | None, Depends(principal)],
) -> Auditor:
    return Auditor(state, who, client_ip(request, state.trusted_proxies))


Audit = Annotated[Auditor, Depends(auditor)]
"""The route parameter type: ``def handler(..., audit: Audit)``."""
