from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.accounts.models import ApiKey

router = Router()


class MeOut(Schema):
    organisation: str
    organisation_kind: str
    via: str
    scopes: list[str]


class ApiKeyOut(Schema):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.get("/me", response=MeOut, auth=ApiKeyAuth(), summary="Who the credentials belong to")
def me(request: HttpRequest) -> dict[str, object]:
    p = principal_of(request)
    return {
        "organisation": p.organisation.slug,
        "organisation_kind": p.organisation.kind,
        "via": "api_key" if p.api_key else "session",
        "scopes": list(p.api_key.scopes) if p.api_key else [],
    }


@router.get(
    "/api-keys",
    response=list[ApiKeyOut],
    auth=ApiKeyAuth(scope=ApiKey.Scope.ACCOUNTS_READ),
    summary="Your organisation's API keys (never the secrets); needs the accounts:read scope",
)
def list_keys(request: HttpRequest) -> list[dict[str, object]]:
    p = principal_of(request)
    return [
        {"id": str(k.id), "name": k.name, "prefix": k.prefix, "scopes": k.scopes, "created_at": k.created_at,
         "revoked_at": k.revoked_at, "last_used_at": k.last_used_at}
        for k in ApiKey.objects.for_org(p.organisation).filter(organisation=p.organisation)
    ]
