"""Reads for the providers app."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from robotrace.providers.models import Period, Provider, ProviderFlag, ProviderScorecard

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def provider_for_org(org: Organisation | None) -> Provider | None:
    if org is None or not org.is_provider:
        return None
    return Provider.objects.filter(organisation=org).first()


def registry(*, q: str = "", status: str = "", role: str = "", rmd: str = "", country: str = "", account: str = "") -> QuerySet[Provider]:
    qs = Provider.objects.select_related("organisation")
    if q:
        q = q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(frn=q) | Q(spc__iexact=q) | Q(dba_names__icontains=q) | Q(ocns__icontains=q.upper()))
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Provider.Status.MERGED)
    if role:
        qs = qs.filter(roles__icontains=f'"{role}"')
    if rmd:
        qs = qs.filter(rmd_status=rmd)
    if country:
        qs = qs.filter(country=country.upper())
    if account == "yes":
        qs = qs.filter(organisation__isnull=False)
    elif account == "no":
        qs = qs.filter(organisation__isnull=True)
    return qs


def scorecards_for(org: Organisation, provider: Provider) -> QuerySet[ProviderScorecard]:
    """Scoped: a provider reaches only its own rows, whatever id it asks for."""
    return ProviderScorecard.objects.for_org(org).filter(provider=provider)


def scorecard_bundle(org: Organisation, provider: Provider) -> dict[str, Any]:
    rows = list(scorecards_for(org, provider))
    months = sorted((r for r in rows if r.period == Period.MONTH), key=lambda r: r.period_key)
    quarters = sorted((r for r in rows if r.period == Period.QUARTER), key=lambda r: r.period_key)
    overall = next((r for r in rows if r.period == Period.ALL), None)
    chart = {
        "labels": [m.period_key for m in months[-24:]],
        "notices": [m.notices for m in months[-24:]],
        "on_time": [m.answered_on_time for m in months[-24:]],
        "late": [m.answered_late for m in months[-24:]],
        "never": [m.never_answered for m in months[-24:]],
        "median_hours": [m.median_answer_hours for m in months[-24:]],
        "originating": [m.originating_traced for m in months[-24:]],
        "gateway": [m.point_of_entry_traced for m in months[-24:]],
    }
    return {"months": months, "quarters": quarters, "overall": overall, "chart": chart}


def campaign_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    from robotrace.campaigns.models import Campaign

    return {c.id: f"{c.ref} {c.name}" for c in Campaign.objects.unscoped(reason="campaign names on scorecards and flags").filter(id__in=ids).only("id", "name")}


def flagged_providers(org: Organisation) -> list[dict[str, Any]]:
    """The non-cooperative list: each provider with an active flag, its rules and evidence."""
    flags = ProviderFlag.objects.for_org(org).filter(active=True).select_related("provider").order_by("provider__name", "rule")
    grouped: dict[int, dict[str, Any]] = {}
    for f in flags:
        entry = grouped.setdefault(
            f.provider_id,
            {"provider": f.provider, "flags": [], "first_flagged_at": f.first_flagged_at, "evidence": set()},
        )
        entry["flags"].append(f)
        entry["first_flagged_at"] = min(entry["first_flagged_at"], f.first_flagged_at)
        entry["evidence"].update(f.evidence_ids)
    # Trend: the last 12 months of each flagged provider's scorecard (notices never answered;
    # tracebacks it originated or let in), which shows the direction from the first day,
    # unlike the flag's own daily history that starts when it was first flagged.
    months: dict[int, dict[str, ProviderScorecard]] = defaultdict(dict)
    keys: set[str] = set()
    for card in ProviderScorecard.objects.unscoped(reason="trend of providers on the published list").filter(
        provider_id__in=list(grouped), period=Period.MONTH
    ).only("provider_id", "period_key", "never_answered", "originating_traced", "point_of_entry_traced", "no_record"):
        months[card.provider_id][card.period_key] = card
        keys.add(card.period_key)
    labels = sorted(keys)[-12:]
    out = []
    for pid, entry in grouped.items():
        cards = months.get(pid, {})
        entry["trend"] = {
            "labels": labels,
            "never": [cards[k].never_answered if k in cards else 0 for k in labels],
            "roles": [(cards[k].originating_traced + cards[k].point_of_entry_traced) if k in cards else 0 for k in labels],
            "no_record": [cards[k].no_record if k in cards else 0 for k in labels],
        }
        entry["evidence_count"] = len(entry["evidence"])
        out.append(entry)
    out.sort(key=lambda e: (-len(e["flags"]), -e["evidence_count"], e["provider"].name))
    return out


def traceback_refs(ids: list[int]) -> list[str]:
    return [f"TB-{i:06d}" for i in ids]


def provider_history(provider: Provider, limit: int = 100) -> list[Any]:
    """The provider's registry history: its audit events, newest first."""
    from robotrace.audit.models import AuditEvent

    return list(
        AuditEvent.objects.filter(object_type="providers.provider", object_id=str(provider.pk)).order_by("-id")[:limit]
    )


def notice_history(provider: Provider) -> list[dict[str, Any]]:
    """Every traceback notice (hop request) the provider received, oldest first, with the
    campaign it concerned: the exhibit showing the provider was on notice."""
    from robotrace.tracebacks.models import Hop

    hops = (
        Hop.objects.unscoped(reason="notice-history letter for one provider")
        .filter(provider=provider)
        .exclude(status="cancelled")
        .select_related("traceback", "traceback__campaign")
        .order_by("received_at", "id")
    )
    out = []
    for h in hops.iterator(chunk_size=2000):
        tb = h.traceback
        out.append(
            {
                "traceback": tb.ref,
                "received_at": h.received_at,
                "due_at": h.due_at,
                "answered_at": h.answered_at,
                "status": h.get_status_display(),
                "response": h.get_response_display() if h.response else "",
                "call_at": tb.call_started_at,
                "campaign": f"{tb.campaign.ref} {tb.campaign.name}" if tb.campaign_id else "",
            }
        )
    return out
