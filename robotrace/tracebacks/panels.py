"""Home-page panels: open/overdue counts for staff, open hop requests for providers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.tracebacks import queries


def consortium_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = request.user.organisation  # type: ignore[union-attr]
    return {"stats": queries.board_stats(org), "escalations": list(queries.escalations(org, limit=5))}


def provider_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = request.user.organisation  # type: ignore[union-attr]
    hops = list(queries.hops_for_provider(org).order_by("due_at")[:5])
    return {"hops": hops, "count": queries.hops_for_provider(org).count()}
