"""Reads for the campaigns app: lists, per-campaign trends, category trends, the surge list."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from robotrace.campaigns.models import Campaign, CampaignChange, Category
from robotrace.ingest.queries import all_reports

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

SORTS = {
    "volume": "-report_count",
    "recent": "-last_seen_at",
    "new": "-created_at",
    "category": "category",
    "status": "status",
    "states": "-state_count",
    "caller_ids": "-caller_id_count",
}


def visible(org: Organisation) -> QuerySet[Campaign]:
    """Campaigns `org` may see; merged ones stay reachable by id but leave the lists."""
    return Campaign.objects.for_org(org)


def campaign_list(org: Organisation, *, q: str = "", category: str = "", status: str = "", sort: str = "volume") -> list[Campaign]:
    qs = visible(org)
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Campaign.Status.MERGED)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(representative_transcript__icontains=q))
    if sort == "growth":
        rows = list(qs.order_by("-report_count")[:2000])
        growth = growth_for([c.pk for c in rows])
        for c in rows:
            c.growth = growth.get(c.pk, (0, 0))  # type: ignore[attr-defined]  # an attribute added for the page
        rows.sort(key=lambda c: (c.growth[0] - c.growth[1], c.report_count), reverse=True)  # type: ignore[attr-defined]  # an attribute added for the page
        return rows[:200]
    rows = list(qs.order_by(SORTS.get(sort, "-report_count"), "-pk")[:200])
    growth = growth_for([c.pk for c in rows])
    for c in rows:
        c.growth = growth.get(c.pk, (0, 0))  # type: ignore[attr-defined]  # an attribute added for the page
    return rows


def _reports() -> Any:
    return all_reports(reason="campaign trends (the campaign itself was scoped)")


def reference_now() -> Any:
    """'Now' for trend windows: the present, or the newest report if data is historical
    (the demo and imported datasets), so charts and surges stay meaningful."""
    latest = all_reports(reason="trend reference time").filter(campaign__isnull=False).order_by("-call_started_at").values_list("call_started_at", flat=True).first()
    now = timezone.now()
    return min(now, latest) if latest else now


def growth_for(campaign_ids: list[int], *, now: Any = None) -> dict[int, tuple[int, int]]:
    """(reports in the last 24 h, reports in the 24 h before) per campaign."""
    if not campaign_ids:
        return {}
    now = now or reference_now()
    day, two = now - timedelta(days=1), now - timedelta(days=2)
    rows = (
        _reports().filter(campaign_id__in=campaign_ids, call_started_at__gte=two)
        .values("campaign_id")
        .annotate(last=Count("id", filter=Q(call_started_at__gte=day)), prev=Count("id", filter=Q(call_started_at__lt=day)))
    )
    return {r["campaign_id"]: (r["last"], r["prev"]) for r in rows}


def daily_series(campaign: Campaign, *, days: int = 30) -> dict[str, Any]:
    """Per day: reports, distinct caller IDs, and new caller IDs (the rotation rate)."""
    reports = _reports().filter(campaign_id=campaign.pk)
    end = (campaign.last_seen_at or timezone.now()).date()
    start = end - timedelta(days=days - 1)
    per_day = {
        r["d"]: r for r in reports.filter(call_started_at__date__gte=start)
        .annotate(d=TruncDate("call_started_at")).values("d")
        .annotate(n=Count("id"), callers=Count("calling_number_e164", distinct=True, filter=~Q(calling_number_e164="")))
    }
    first_use = (
        reports.exclude(calling_number_e164="").values("calling_number_e164")
        .annotate(first=Min("call_started_at"))
    )
    new_per_day: Counter[date] = Counter()
    for r in first_use.iterator(chunk_size=5000):
        new_per_day[r["first"].date()] += 1
    labels, volume, callers, new_callers = [], [], [], []
    for i in range(days):
        d = start + timedelta(days=i)
        labels.append(d.isoformat())
        row = per_day.get(d)
        volume.append(row["n"] if row else 0)
        callers.append(row["callers"] if row else 0)
        new_callers.append(new_per_day.get(d, 0))
    active = [v for v in new_callers if v]
    return {
        "labels": labels, "volume": volume, "caller_ids": callers, "new_caller_ids": new_callers,
        "rotation_per_day": round(sum(active) / len(active), 1) if active else 0,
    }


def top_values(campaign: Campaign, field: str, *, limit: int = 15) -> list[tuple[str, int]]:
    rows = (
        _reports().filter(campaign_id=campaign.pk).exclude(**{field: ""})
        .values(field).annotate(n=Count("id")).order_by("-n")[:limit]
    )
    return [(r[field], r["n"]) for r in rows]


def callback_numbers(campaign: Campaign, *, limit: int = 15) -> list[tuple[str, int]]:
    from robotrace.campaigns.models import CampaignLink
    from robotrace.core import phones

    counts: Counter[str] = Counter()
    for nums, text in _reports().filter(campaign_id=campaign.pk).values_list("callback_numbers", "transcript")[:20000]:
        found = set(phones.normalise_all(nums or [])) | set(phones.callback_numbers_in(text or "", written_as_given=True))
        counts.update(found)
    for value in CampaignLink.objects.filter(campaign=campaign, kind="callback").values_list("value", flat=True):
        counts.setdefault(value, 0)
    return counts.most_common(limit)


def reporters(campaign: Campaign) -> list[tuple[str, int]]:
    rows = _reports().filter(campaign_id=campaign.pk).values("reporter__name").annotate(n=Count("id")).order_by("-n")[:20]
    return [(r["reporter__name"], r["n"]) for r in rows]


def recent_reports(campaign: Campaign, *, limit: int = 25) -> list[Any]:
    return list(_reports().filter(campaign_id=campaign.pk).order_by("-call_started_at")[:limit])


def changes(campaign: Campaign) -> QuerySet[CampaignChange]:
    return CampaignChange.objects.filter(Q(from_campaign=campaign) | Q(to_campaign=campaign)).select_related("from_campaign", "to_campaign")[:50]


def category_trends(org: Organisation, *, days: int = 30) -> dict[str, Any]:
    """Reports per category per day (for the stacked chart) and totals."""
    end = reference_now().date()
    start = end - timedelta(days=days - 1)
    ids = visible(org).values("pk")
    rows = (
        _reports().filter(campaign_id__in=ids, call_started_at__date__gte=start)
        .annotate(d=TruncDate("call_started_at"), cat=F("campaign__category"))
        .values("d", "cat").annotate(n=Count("id"))
    )
    grid: dict[str, dict[date, int]] = {}
    for r in rows:
        grid.setdefault(r["cat"], {})[r["d"]] = r["n"]
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    series = []
    for cat, per_day in sorted(grid.items(), key=lambda kv: -sum(kv[1].values())):
        series.append({
            "category": cat, "label": Category(cat).label if cat in Category.values else cat,
            "data": [per_day.get(start + timedelta(days=i), 0) for i in range(days)],
        })
    totals = (
        visible(org).exclude(status=Campaign.Status.MERGED).values("category")
        .annotate(campaigns=Count("id"), reports=Sum("report_count"))  # type: ignore[no-redef]  # a row key, not Campaign.reports
        .order_by("-reports")
    )
    return {
        "labels": labels, "series": series,
        "totals": [{**t, "label": Category(t["category"]).label if t["category"] in Category.values else t["category"]} for t in totals],
    }


def new_and_surging(org: Organisation, *, limit: int = 10) -> list[dict[str, Any]]:
    """Campaigns opened in the last 3 days or whose last 24 h beat the 24 h before (x2, >= 5)."""
    now = reference_now()
    recent = list(
        visible(org).exclude(status__in=[Campaign.Status.MERGED, Campaign.Status.CLOSED])
        .filter(last_seen_at__gte=now - timedelta(days=2)).order_by("-report_count")[:500]
    )
    growth = growth_for([c.pk for c in recent], now=now)
    out: list[dict[str, Any]] = []
    for c in recent:
        last, prev = growth.get(c.pk, (0, 0))
        is_new = c.first_seen_at is not None and c.first_seen_at >= now - timedelta(days=3)
        surging = last >= 5 and last >= 2 * max(prev, 1)
        if is_new or surging:
            out.append({"campaign": c, "last": last, "prev": prev, "new": is_new, "surging": surging, "ratio": round(last / max(prev, 1), 1)})
    out.sort(key=lambda r: (r["surging"], r["last"] - r["prev"]), reverse=True)
    return out[:limit]


def stats(org: Organisation) -> dict[str, int]:
    qs = visible(org).exclude(status=Campaign.Status.MERGED)
    agg = qs.aggregate(
        total=Count("id"), suspected=Count("id", filter=Q(status=Campaign.Status.SUSPECTED)),
        confirmed=Count("id", filter=Q(status=Campaign.Status.CONFIRMED)), closed=Count("id", filter=Q(status=Campaign.Status.CLOSED)),
    )
    return {k: v or 0 for k, v in agg.items()}


def names_by_id(ids: set[int]) -> dict[int, str]:
    """"C-123 Name" of each campaign, for pages of other apps that cite campaigns by id
    (names only: no figures of the campaign)."""
    if not ids:
        return {}
    campaigns = Campaign.objects.unscoped(reason="campaign names cited by other pages").filter(id__in=ids).only("id", "name")
    return {c.id: f"{c.ref} {c.name}" for c in campaigns}


@dataclass(frozen=True)
class CampaignRecord:
    """A campaign as productions and evidence packages describe it."""

    id: int
    ref: str
    name: str
    category: str
    category_label: str
    status: str
    status_label: str
    legal_basis: list[str]
    first_seen_at: Any
    last_seen_at: Any
    report_count: int
    caller_id_count: int
    state_count: int
    representative_transcript: str


def records(org: Organisation, ids: set[int]) -> list[CampaignRecord]:
    """The campaigns the organisation may see, by id."""
    return [
        CampaignRecord(
            c.id, c.ref, c.name, c.category, c.get_category_display(), c.status, c.get_status_display(), c.legal_basis,
            c.first_seen_at, c.last_seen_at, c.report_count, c.caller_id_count, c.state_count, c.representative_transcript,
        )
        for c in Campaign.objects.for_org(org).filter(pk__in=sorted(ids)).order_by("id")
    ]


def campaign(org: Organisation, pk: int) -> Campaign | None:
    """One campaign the organisation may see."""
    return Campaign.objects.for_org(org).filter(pk=pk).first()


def recent(org: Organisation, *, limit: int = 200) -> list[Campaign]:
    """The campaigns the organisation may see, last seen first (merged ones aside), for a choice."""
    return list(Campaign.objects.for_org(org).exclude(status=Campaign.Status.MERGED).order_by("-last_seen_at", "-id")[:limit])


Status = Campaign.Status  # for apps that compare a campaign's status


def campaign_for_system(pk: int, *, reason: str) -> Campaign | None:
    """One campaign whoever may see it, for system work (alert evaluation); say why."""
    return Campaign.objects.unscoped(reason=reason).filter(pk=pk).first()
