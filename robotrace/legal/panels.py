"""Home-page panels: the review queue for staff, an agency's own requests."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.accounts.queries import organisation_of
from robotrace.legal import queries


def queue_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    counts = queries.queue_counts(org)
    top = list(queries.queue(org)[:5])
    return {"counts": counts, "top": top}


def agency_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    reqs = list(queries.requests_for(org).order_by("-created_at")[:5])
    ready = [p for p in queries.productions_for(org).order_by("-created_at")[:5] if not p.is_expired]
    return {"requests": reqs, "ready": ready}


def campaign_page(*, org: Any, campaign: Any) -> dict[str, Any]:
    """A campaign's page (campaigns app, below), for staff: the legal requests that target
    the campaign and the evidence packages built for it, so they see what has already been
    asked for and produced (read-only)."""
    if not org.is_consortium:
        return {}
    return {"legal": {"requests": queries.requests_naming_campaign(org, campaign.pk), "packages": queries.packages_for_campaign(org, campaign.pk)}}
