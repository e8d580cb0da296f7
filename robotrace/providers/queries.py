"""Reads for the providers app: the registry is reference data every signed-in organisation
may read, so these take no organisation scope. Other apps read the registry here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from robotrace.audit import queries as audit_queries
from robotrace.providers.models import Provider

# The registry's vocabularies, for apps that store or compare them.
Status = Provider.Status
RmdStatus = Provider.RmdStatus

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


def provider_history(provider: Provider, limit: int = 100) -> list[Any]:
    """The provider's registry history: its audit events, newest first."""
    return list(audit_queries.events(object_type="providers.provider", object_id=str(provider.pk))[:limit])


def provider(provider_id: int, *, only: tuple[str, ...] = ()) -> Provider | None:
    """One registry record; `only` its named columns (the others load if asked for)."""
    qs = Provider.objects.filter(pk=provider_id).order_by()  # one row: no ORDER BY name
    return next(iter((qs.only(*only) if only else qs)[:1]), None)


def for_organisation_id(organisation_id: int) -> Provider | None:
    """The registry record of a provider organisation (merged records aside)."""
    return Provider.objects.filter(organisation_id=organisation_id).exclude(status=Provider.Status.MERGED).first()


def active() -> QuerySet[Provider]:
    """Every registry record but merged ones, by name (for a choice)."""
    return Provider.objects.exclude(status=Provider.Status.MERGED).order_by("name")


def providers_by_id(ids: list[int]) -> QuerySet[Provider]:
    return Provider.objects.filter(id__in=ids)


def rmd_statuses() -> dict[int, str]:
    """Every registry provider (merged records aside): id -> RMD status."""
    return dict(Provider.objects.exclude(status=Provider.Status.MERGED).values_list("id", "rmd_status"))


@dataclass(frozen=True)
class RuleFacts:
    """What the non-cooperation rules need to know of a registry provider."""

    id: int
    organisation_id: int | None
    contact_email: str
    fallback_contact_email: str
    contacts_unreachable_at: datetime | None
    rmd_status: str
    rmd_removed_at: date | None


def rule_facts() -> list[RuleFacts]:
    """Every registry provider (merged records aside)."""
    fields = [f.name for f in dataclasses.fields(RuleFacts)]
    return [RuleFacts(*row) for row in Provider.objects.exclude(status=Provider.Status.MERGED).values_list(*fields)]


@dataclass(frozen=True)
class ProviderRecord:
    """A registry record as productions and evidence packages list it."""

    id: int
    name: str
    dba_names: list[str]
    frn: str
    ocns: list[str]
    country: str
    rmd_status: str
    contact_name: str
    contact_email: str
    contact_phone: str
    fallback_contact_email: str


def records(ids: set[int]) -> list[ProviderRecord]:
    """By name, then id."""
    fields = [f.name for f in dataclasses.fields(ProviderRecord)]
    return [ProviderRecord(*row) for row in Provider.objects.filter(pk__in=sorted(ids)).order_by("name", "id").values_list(*fields)]


def names(ids: list[int]) -> dict[int, str]:
    """id -> name of the given registry records."""
    return dict(Provider.objects.filter(id__in=ids).values_list("id", "name"))
