"""What a person's role lets them do, for pages, the API and the services alike.

A browser session calling the API gets the scopes of the person's role, so the API never allows
what the pages refuse; the write services check the role again themselves, so a route that
forgets a scope still cannot let a read-only person change anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robotrace.accounts.models import ApiKey, User

S = ApiKey.Scope

# Which organisation kinds may use a scope at all (the same kinds the API routes accept).
SCOPE_KINDS: dict[str, frozenset[str]] = {
    S.INGEST: frozenset({"reporter", "consortium"}),
    S.TRACEBACK_RESPOND: frozenset({"provider"}),
    S.TRACEBACK_READ: frozenset({"consortium", "agency"}),
    S.LEGAL_READ: frozenset({"agency", "consortium"}),
    S.LEGAL_WRITE: frozenset({"agency", "consortium"}),
    S.ALERTS_READ: frozenset({"agency", "consortium"}),
    S.ALERTS_WRITE: frozenset({"agency"}),
    S.CAMPAIGNS_READ: frozenset({"consortium", "agency"}),
    S.PROVIDERS_READ: frozenset({"consortium", "agency", "provider", "reporter"}),
    S.ACCOUNTS_READ: frozenset({"consortium", "agency", "provider", "reporter"}),
    S.SHAKEN_READ: frozenset({"consortium"}),
}
READ_SCOPES = frozenset(s for s in S.values if s.endswith(":read"))

READ_ONLY_REFUSAL = "read-only users cannot change anything"


def session_scopes(user: User, *, writing: bool = True) -> frozenset[str]:
    """The API scopes a signed-in person's browser session carries. A read-only person reads
    everything the organisation's kind may read (a provider's hop inbox is under
    traceback:respond), and for a write (POST, PUT, PATCH, DELETE) holds only the *:read scopes."""
    org = user.organisation
    if org is None:
        return frozenset()
    scopes = frozenset(s for s, kinds in SCOPE_KINDS.items() if org.kind in kinds)
    return scopes if user.can_write or not writing else scopes & READ_SCOPES


def require_can_write(actor: Any, error: Callable[[str], Exception] = PermissionError) -> None:
    """Refuse a read-only person. `error` is the calling app's usual refusal (built from one
    message). None is system or API-key work, where the key's scopes govern."""
    if actor is not None and getattr(actor, "is_authenticated", False) and not actor.can_write:
        raise error(READ_ONLY_REFUSAL)
