"""Writes for the provider registry. Other apps create providers through these functions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from robotrace.accounts.models import User
from robotrace.audit import services as audit
from robotrace.providers.models import Provider


def create_provider(*, actor: User | None, name: str, status: str = Provider.Status.ACTIVE, **fields: Any) -> Provider:
    with transaction.atomic():
        provider = Provider(name=name.strip(), status=status, **fields)
        provider.full_clean(exclude=["organisation", "merged_into"])
        provider.save()
        audit.record(action="provider.created", actor=actor, obj=provider, data={"name": provider.name, "status": status})
    return provider


def find_provider(*, text: str) -> Provider | None:
    """Find a non-merged provider by SPC, FRN, OCN, name or doing-business-as name."""
    text = (text or "").strip()
    if not text:
        return None
    qs = Provider.objects.exclude(status=Provider.Status.MERGED)
    match = qs.filter(Q(spc__iexact=text) | Q(frn=text) | Q(name__iexact=text)).order_by("status", "id").first()
    if match is not None:
        return match
    upper, lower = text.upper(), text.lower()
    # OCNs and DBA names are short JSON lists; scanning them in Python keeps SQLite and
    # PostgreSQL behaviour identical.
    for p in qs.only("id", "ocns", "dba_names").iterator():
        if upper in (o.upper() for o in p.ocns) or lower in (d.lower() for d in p.dba_names):
            return Provider.objects.get(id=p.id)
    return None


def find_or_create_pending(*, actor: User | None, text: str, named_by: Provider | None = None) -> Provider:
    """A hop named an upstream provider: use the registry record, or create a pending one
    that staff can later merge into the right record."""
    found = find_provider(text=text)
    if found is not None:
        return found.merged_into if found.status == Provider.Status.MERGED and found.merged_into else found
    with transaction.atomic():
        provider = Provider.objects.create(name=text.strip()[:200], status=Provider.Status.PENDING)
        audit.record(
            action="provider.pending_created",
            actor=actor,
            obj=provider,
            data={"name": provider.name, "named_by": named_by.id if named_by else None},
        )
    return provider
