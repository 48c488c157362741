"""One MCP request's caller: the app state, the principal and the auditor bound to it."""

from __future__ import annotations

from dataclasses import dataclass

from lib.errors import AuthError, Forbidden
from lib.http.audit import Auditor
from lib.http.credentials import Principal, Role, role_allows
from lib.http.ratelimit import count
from lib.http.reads import Reading
from lib.http.state import AppState


@dataclass(frozen=True)
class McpCall:
    """What a tool may use: the state of this app instance and who is calling."""

    state: AppState
    principal: Principal | None
    audit: Auditor
    ip: str

    def reading(self) -> Reading:
        """The fleet now, after the engine has caught up: what a REST read sees."""
        now = self.state.clock.now()
        self.state.engine.maybe_advance(now)
        return Reading(self.state, now)

    def limit(self, name: str) -> None:
        """Count this call against the REST API's limiter ``name``, as its route would."""
        count(self.state, name, self.principal, self.ip)

    def require(self, role: Role) -> Principal:
        """The principal, if it has at least ``role``: else ``AuthError`` or ``Forbidden``."""
        who = self.principal
        if who is None:
            raise AuthError(f"this tool needs the {role} role: authenticate")
        if not role_allows(who.role, role):
            raise Forbidden(f"this tool needs the {role} role", needed=role, role=who.role)
        return who
