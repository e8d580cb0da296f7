"""Home-page panels of the scorecards app, and what it adds to the registry's pages."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils import timezone

from robotrace.accounts.queries import organisation_of
from robotrace.providers.queries import provider_for_org
from robotrace.scorecards.models import Period, ProviderFlag, ProviderNotice
from robotrace.scorecards.queries import scorecards_for

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation
    from robotrace.providers.models import Provider


def newly_flagged(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    since = timezone.now() - timedelta(days=30)
    flags = list(
        ProviderFlag.objects.for_org(org).filter(active=True, flagged_at__gte=since).select_related("provider").order_by("-flagged_at")[:8]
    )
    total = ProviderFlag.objects.for_org(org).filter(active=True).order_by().values("provider_id").distinct().count()
    return {"flags": flags, "total": total}


def my_scorecard(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    provider = provider_for_org(org)
    if provider is None:
        return None
    overall = scorecards_for(org, provider).filter(period=Period.ALL).first()
    flags = list(ProviderFlag.objects.for_org(org).filter(provider=provider, active=True))
    notices = list(ProviderNotice.objects.for_org(org).filter(read_at__isnull=True)[:3])
    return {"provider": provider, "overall": overall, "flags": flags, "notices": notices}


def registry_detail(*, org: Organisation, provider: Provider) -> dict[str, Any]:
    """A registry record's page: its all-time cooperation figures and its flags."""
    return {
        "overall": scorecards_for(org, provider).filter(period=Period.ALL).first(),
        "flags": ProviderFlag.objects.for_org(org).filter(provider=provider),
    }


def registry_list(*, org: Organisation, providers: list[Provider]) -> dict[str, Any]:
    """A page of the registry list: which of its providers are flagged."""
    flagged = ProviderFlag.objects.for_org(org).filter(active=True, provider__in=[p.id for p in providers])
    return {"flagged": set(flagged.values_list("provider_id", flat=True))}
