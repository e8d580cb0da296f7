"""Home-page panels: a reporter's recent uploads; the consortium's intake over the last 24 h."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.accounts.queries import organisation_of
from robotrace.ingest import queries


def reporter_recent(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    return {"uploads": list(queries.uploads_for(org)[:5]), "totals": queries.intake_totals(org)}


def consortium_intake(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    return {"totals": queries.intake_totals(org), "flags": queries.flagged_share(org), "chart": queries.intake_by_reporter(org, days=1, hourly=True)}
