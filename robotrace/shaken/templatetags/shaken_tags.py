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
