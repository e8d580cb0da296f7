"""Home-page panels: open/overdue counts for staff, open hop requests for providers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.accounts.queries import organisation_of
from robotrace.tracebacks import queries


def consortium_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    return {"stats": queries.board_stats(org), "escalations": list(queries.escalations(org, limit=5))}


def provider_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    hops = list(queries.hops_for_provider(org).order_by("due_at")[:5])
    return {"hops": hops, "count": queries.hops_for_provider(org).count()}


def campaign_page(*, org: Any, campaign: Any) -> dict[str, Any]:
    """A campaign's page (campaigns app, below): its tracebacks the viewer may see."""
    tracebacks = queries.tracebacks_for(org).filter(campaign_id=campaign.pk).select_related("originating_provider").order_by("-created_at")
    return {"tracebacks": list(tracebacks[:50])}


def register_campaign_extras() -> None:
    """What tracebacks add to the campaigns app's pages: its tracebacks on a campaign's page,
    the providers and customers met while tracing on the ecosystem graph."""
    from robotrace.campaigns.ecosystem import TracedSource, register_traced_source
    from robotrace.core import pages

    pages.register("campaigns:detail", campaign_page)
    register_traced_source(TracedSource(queries.campaign_hop_counts, queries.campaign_upstream_pairs, queries.campaign_customers))
