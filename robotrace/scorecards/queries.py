"""Reads for the scorecards app: scorecards (a provider sees only its own), the
non-cooperative list and what its pages cite."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from robotrace.campaigns.queries import names_by_id as campaign_names
from robotrace.scorecards.models import Period, ProviderFlag, ProviderScorecard
from robotrace.tracebacks import queries as tracebacks

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation
    from robotrace.providers.models import Provider

__all__ = ["campaign_names", "flagged_providers", "notice_history", "scorecard_bundle", "scorecards_for", "traceback_refs"]


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



def notice_history(provider: Provider) -> list[dict[str, Any]]:
    """Every traceback notice (hop request) the provider received, oldest first, with the
    campaign it concerned: the exhibit showing the provider was on notice."""
    return tracebacks.notice_history(provider.pk)
