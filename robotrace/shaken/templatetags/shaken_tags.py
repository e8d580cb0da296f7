"""`{% load shaken_tags %}{% shaken_verdict report_id %}` renders the call-authentication
panel for one report in another app's page (consortium pages only: the caller decides)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("shaken/_report_panel.html", takes_context=True)
def shaken_verdict(context: Any, report_id: int, show_link: bool = True) -> dict[str, Any]:
    from robotrace.shaken.models import ShakenVerification

    request = context.get("request")
    org = getattr(getattr(request, "user", None), "organisation", None)
    v = None
    if org is not None:
        v = ShakenVerification.objects.for_org(org).select_related("signer_provider").filter(report_id=report_id).first()
    return {"v": v, "show_link": show_link and org is not None and org.is_consortium}


@register.inclusion_tag("shaken/_campaign_panel.html")
def shaken_campaign(campaign_id: int) -> dict[str, Any]:
    """Share of the campaign's calls that were signed, and who signed them."""
    from robotrace.shaken.facade import campaign_signing_stats

    return {"s": campaign_signing_stats(campaign_id)}


@register.inclusion_tag("shaken/_provider_panel.html")
def shaken_provider(provider_id: int) -> dict[str, Any]:
    """What a provider signed: volume, attestation mix and the faults that count against it."""
    from robotrace.shaken.facade import provider_signing_stats

    return {"s": provider_signing_stats([provider_id]).get(provider_id)}
