"""Scorecards and the non-cooperative list over the API, under /providers/ with the
registry. Operation ids and the "providers" tag are those the schema had before these
routes moved out of providers/api.py, so clients generated from it keep working."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.problems import ApiProblem
from robotrace.providers import queries as registry
from robotrace.scorecards import exports, queries
from robotrace.scorecards.models import ProviderScorecard

router = Router()


class ScorecardOut(Schema):
    period: str
    period_key: str
    notices: int
    answered: int
    answered_share: float | None
    answered_on_time: int
    answered_late: int
    never_answered: int
    open_notices: int
    median_answer_seconds: float | None
    no_record: int
    no_record_share: float | None
    originating_illegal: int
    originating_traced: int
    originating_campaign_ids: list[int]
    point_of_entry_illegal: int
    point_of_entry_traced: int
    point_of_entry_campaign_ids: list[int]
    customers_warned: int
    customers_terminated: int
    attestation: dict[str, Any]
    rmd_status: str
    computed_at: datetime


class ScorecardsOut(Schema):
    provider_id: str
    provider: str
    items: list[ScorecardOut]


class FlagOut(Schema):
    rule: str
    label: str
    detail: str
    first_flagged_at: datetime
    flagged_at: datetime
    evidence_traceback_ids: list[str]
    evidence_count: int


class FlaggedOut(Schema):
    provider_id: str
    provider: str
    country: str
    frn: str
    rmd_status: str
    first_flagged_at: datetime
    flags: list[FlagOut]


class FlaggedList(Schema):
    items: list[FlaggedOut]


@router.get("/providers/noncooperative", response=FlaggedList, auth=ApiKeyAuth(scope="providers:read", kinds=("consortium", "agency")), summary="The non-cooperative provider list",
            operation_id="robotrace_providers_api_noncooperative")
def noncooperative(request: HttpRequest) -> dict[str, Any]:
    org = principal_of(request).organisation
    items = []
    for e in queries.flagged_providers(org):
        p = e["provider"]
        items.append({
            "provider_id": str(p.pk), "provider": p.name, "country": p.country, "frn": p.frn, "rmd_status": p.rmd_status,
            "first_flagged_at": e["first_flagged_at"],
            "flags": [
                {
                    "rule": f.rule, "label": f.get_rule_display(), "detail": f.detail, "first_flagged_at": f.first_flagged_at,
                    "flagged_at": f.flagged_at, "evidence_traceback_ids": queries.traceback_refs(f.evidence_ids),
                    "evidence_count": f.evidence_count,
                }
                for f in e["flags"]
            ],
        })
    return {"items": items}


@router.get("/providers/{provider_id}/scorecard", response=ScorecardsOut, auth=ApiKeyAuth(scope="providers:read"), summary="A provider's scorecard",
            operation_id="robotrace_providers_api_scorecard")
def scorecard(request: HttpRequest, provider_id: int, period: str | None = None) -> dict[str, Any]:
    """Consortium: any provider. A provider: its own only; any other id answers 404."""
    org = principal_of(request).organisation
    provider = registry.provider(provider_id)
    if provider is None or not (org.is_consortium or (org.is_provider and provider.organisation_id == org.id)):
        raise ApiProblem(404, "Not found", "no such provider scorecard")
    qs = queries.scorecards_for(org, provider).order_by("period", "period_key")
    if period:
        try:
            kind, key = exports.parse_period(period)
        except ValueError as exc:
            raise ApiProblem(400, "Bad period", str(exc)) from exc
        qs = qs.filter(period=kind, period_key=key)
    items = [_card_out(c) for c in qs]
    return {"provider_id": str(provider.pk), "provider": provider.name, "items": items}


def _card_out(c: ProviderScorecard) -> dict[str, Any]:
    fields = [f for f in ScorecardOut.model_fields if f not in ("answered_share", "no_record_share")]
    out = {f: getattr(c, f) for f in fields}
    out["answered_share"] = c.answered_share
    out["no_record_share"] = c.no_record_share
    return out



