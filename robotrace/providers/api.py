"""The provider registry over the API (scorecards and the non-cooperative list: scorecards.api)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from robotrace.accounts.apiauth import ApiKeyAuth
from robotrace.core.pagination import page, page_response
from robotrace.providers import queries
from robotrace.providers.models import Provider

router = Router()


class ProviderOut(Schema):
    id: str
    name: str
    dba_names: list[str]
    frn: str
    ocns: list[str]
    spc: str
    country: str
    roles: list[str]
    status: str
    merged_into: str | None
    has_account: bool
    timezone: str
    business_hours: str
    rmd_status: str
    rmd_last_seen_at: date | None
    rmd_removed_at: date | None


class ProviderPage(Schema):
    items: list[ProviderOut]
    next: str | None


def _provider_out(p: Provider) -> dict[str, Any]:
    return {
        "id": str(p.pk), "name": p.name, "dba_names": p.dba_names, "frn": p.frn, "ocns": p.ocns, "spc": p.spc,
        "country": p.country, "roles": p.roles, "status": p.status,
        "merged_into": str(p.merged_into_id) if p.merged_into_id else None, "has_account": p.has_account,
        "timezone": p.timezone, "business_hours": f"{p.business_hours_start:02d}:00-{p.business_hours_end:02d}:00",
        "rmd_status": p.rmd_status, "rmd_last_seen_at": p.rmd_last_seen_at, "rmd_removed_at": p.rmd_removed_at,
    }


@router.get("/providers", response=ProviderPage, auth=ApiKeyAuth(scope="providers:read"), summary="The provider registry")
def list_providers(
    request: HttpRequest, q: str = "", status: str = "", rmd: str = "", country: str = "", role: str = "",
    cursor: str | None = None, limit: int = 100,
) -> dict[str, Any]:
    """Every voice service provider known to the platform (reference data any signed-in
    organisation may read)."""
    rows, nxt = page(queries.registry(q=q, status=status, rmd=rmd, country=country, role=role), cursor, limit)
    return page_response([_provider_out(p) for p in rows], nxt)
