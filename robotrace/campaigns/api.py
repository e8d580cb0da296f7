"""Campaign API: consortium staff read every campaign; agencies the ones their alerts and
productions entitle them to (API keys need the scope campaigns:read)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.campaigns import queries
from robotrace.campaigns.models import Campaign, CampaignEvent, Category
from robotrace.core.pagination import page, page_response
from robotrace.core.problems import ApiProblem

router = Router()

read_auth = ApiKeyAuth(scope="campaigns:read", kinds=("consortium", "agency"))


def campaign_json(c: Campaign, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.pk,
        "ref": c.ref,
        "name": c.name,
        "category": c.category,
        "category_source": c.category_source,
        "status": c.status,
        "legal_basis": c.legal_basis,
        "merged_into": c.merged_into_id,
        "report_count": c.report_count,
        "caller_id_count": c.caller_id_count,
        "state_count": c.state_count,
        "first_seen_at": c.first_seen_at.isoformat() if c.first_seen_at else None,
        "last_seen_at": c.last_seen_at.isoformat() if c.last_seen_at else None,
        "confirmed_at": c.confirmed_at.isoformat() if c.confirmed_at else None,
    }
    if full:
        series = queries.daily_series(c)
        out.update(
            representative_transcript=c.representative_transcript,
            daily=[{"date": d, "reports": v, "caller_ids": n, "new_caller_ids": k} for d, v, n, k in zip(series["labels"], series["volume"], series["caller_ids"], series["new_caller_ids"], strict=True)],
            called_states=[{"state": s, "reports": n} for s, n in queries.top_values(c, "called_state", limit=60)],
            caller_ids=[{"number": s, "reports": n} for s, n in queries.top_values(c, "calling_number_e164", limit=50)],
            callback_numbers=[{"number": s, "reports": n} for s, n in queries.callback_numbers(c, limit=50)],
            events=[{"kind": e.kind, "key": e.dedup_key, "at": e.at.isoformat(), "data": e.data} for e in CampaignEvent.objects.filter(campaign=c)[:50]],
        )
    return out


@router.get("/campaigns", auth=read_auth)
def list_campaigns(
    request: HttpRequest, category: str = "", status: str = "", cursor: str | None = None, limit: int = 100
) -> dict[str, Any]:
    org = principal_of(request).organisation
    if category and category not in Category.values:
        raise ApiProblem(400, "Bad filter", f"unknown category {category!r}", errors=[{"line": None, "field": "category", "reason": "unknown category"}])
    if status and status not in Campaign.Status.values:
        raise ApiProblem(400, "Bad filter", f"unknown status {status!r}", errors=[{"line": None, "field": "status", "reason": "unknown status"}])
    qs = queries.visible(org)
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(status=status)
    rows, nxt = page(qs, cursor, limit)
    return page_response([campaign_json(c) for c in rows], nxt)


@router.get("/campaigns/{campaign_id}", auth=read_auth)
def get_campaign(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    org = principal_of(request).organisation
    c = queries.visible(org).filter(pk=campaign_id).first()
    if c is None:
        raise ApiProblem(404, "Not found", "no such campaign")
    return campaign_json(c, full=True)
