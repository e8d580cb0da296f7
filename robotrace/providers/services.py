"""Writes for the provider registry. Other apps create providers through these functions.

Each function is keyword-only, takes the acting user (None for system work), runs in one
transaction and records an audit event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from robotrace.accounts.roles import require_can_write
from robotrace.audit import services as audit
from robotrace.core import webhooks
from robotrace.providers import conf
from robotrace.providers.models import Provider, RmdSnapshot
from robotrace.providers.names import lookup_keys, name_key, normalise_name, ocn_key
from robotrace.providers.signals import provider_merging

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User


class PermissionDenied(Exception):
    pass


def require_consortium(actor: User | None) -> None:
    if actor is None:
        return  # system work: management commands, tasks, seeders
    org = actor.organisation
    if org is None or not org.is_consortium:
        raise PermissionDenied("only consortium staff may change the provider registry")
    if not actor.can_write:
        raise PermissionDenied("read-only users cannot change anything")


def _clean_lists(fields: dict[str, Any]) -> None:
    for key in ("dba_names", "ocns", "roles"):
        if key in fields and isinstance(fields[key], str):
            fields[key] = [v.strip() for v in fields[key].split(",") if v.strip()]
    if "ocns" in fields:
        fields["ocns"] = [o.upper() for o in fields["ocns"]]
    if "country" in fields and fields["country"]:
        fields["country"] = str(fields["country"]).upper()
    bad = [r for r in fields.get("roles", []) if r not in Provider.Role.values]
    if bad:
        raise ValidationError({"roles": f"unknown roles: {', '.join(bad)}; use {', '.join(Provider.Role.values)}"})


def create_provider(*, actor: User | None, name: str, status: str = Provider.Status.ACTIVE, **fields: Any) -> Provider:
    require_consortium(actor)
    _clean_lists(fields)
    with transaction.atomic():
        provider = Provider(name=name.strip(), status=status, **fields)
        provider.full_clean(exclude=["organisation", "merged_into"])
        provider.save()
        audit.record(action="provider.created", actor=actor, obj=provider, data={"name": provider.name, "status": status})
    return provider


EDITABLE = (
    "name", "dba_names", "frn", "ocns", "spc", "country", "roles", "status", "contact_name", "contact_email",
    "contact_phone", "fallback_contact_email", "timezone", "business_hours_start", "business_hours_end",
    "business_days", "webhook_url", "contacts_unreachable_at",
)


def update_provider(*, actor: User | None, provider: Provider, **fields: Any) -> Provider:
    """Edit registry fields; the audit event keeps the before and after of each change."""
    require_consortium(actor)
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError({k: "not an editable registry field" for k in unknown})
    if fields.get("status") == Provider.Status.MERGED:
        raise ValidationError({"status": "use the merge action to merge a provider"})
    _clean_lists(fields)
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        changes: dict[str, list[Any]] = {}
        for key, value in fields.items():
            before = getattr(provider, key)
            if before != value:
                changes[key] = [before, value]
                setattr(provider, key, value)
        if not changes:
            return provider
        provider.full_clean(exclude=["organisation", "merged_into"])
        provider.save()
        audit.record(action="provider.updated", actor=actor, obj=provider, subject_org=provider.organisation, data={"changes": changes})
    return provider


def find_provider(*, text: str) -> Provider | None:
    """Find a provider by SPC, FRN, OCN, legal name or doing-business-as name (exact, then
    ignoring case, punctuation and corporate suffixes). A merged record answers with the
    record it was merged into. Active records win over pending ones."""
    raw = (text or "").strip()
    if not raw:
        return None
    by_status = models.Case(models.When(status=Provider.Status.ACTIVE, then=0), models.When(status=Provider.Status.PENDING, then=1), default=2)
    match = Provider.objects.filter(Q(spc__iexact=raw) | Q(frn=raw) | Q(name__iexact=raw)).order_by(by_status, "id").first()
    if match is None:
        keys = [key for key in (ocn_key(raw), name_key(raw)) if key]
        if not keys:
            return None
        match = Provider.objects.filter(reduce(or_, (Q(lookup_keys__contains=key) for key in keys))).order_by(by_status, "id").first()
        match = match or _find_unkeyed(keys, by_status)
        if match is None:
            return None
    seen = set()
    while match.status == Provider.Status.MERGED and match.merged_into_id and match.id not in seen:
        seen.add(match.id)
        match = match.merged_into or match
    return match


def _find_unkeyed(keys: list[str], by_status: Any) -> Provider | None:
    """Rows written without going through save() (bulk_create in benchmarks and seeds) have no
    stored keys yet: work theirs out here, with the same rule, so they are still found."""
    unkeyed = Provider.objects.filter(lookup_keys="").order_by(by_status, "id").only("id", "name", "dba_names", "ocns")
    for p in unkeyed.iterator():
        answers_to = lookup_keys(p.name, p.dba_names, p.ocns)
        if any(key in answers_to for key in keys):
            return Provider.objects.get(id=p.id)
    return None


def find_or_create_pending(*, actor: User | None, text: str, named_by: Provider | None = None) -> Provider:
    """A hop named an upstream provider: use the registry record, or create a pending one
    that staff can later merge into the right record."""
    found = find_provider(text=text)
    if found is not None:
        return found
    with transaction.atomic():
        provider = Provider.objects.create(name=text.strip()[:200], status=Provider.Status.PENDING)
        audit.record(
            action="provider.pending_created",
            actor=actor,
            obj=provider,
            data={"name": provider.name, "named_by": named_by.id if named_by else None},
        )
    return provider


def _references_to(model_field_pairs: list[tuple[type[models.Model], str]], source: Provider, target: Provider) -> dict[str, int]:
    moved: dict[str, int] = {}
    for model, field_name in model_field_pairs:
        # Base manager: a merge is system-wide work that must reach every row, whatever
        # organisation owns it; the audit event below says so.
        n = model._base_manager.filter(**{field_name: source}).update(**{field_name: target})
        if n:
            moved[f"{model._meta.label_lower}.{field_name}"] = n
    return moved


def _foreign_keys_to_provider() -> list[tuple[type[models.Model], str]]:
    """Every many-to-one reference to Provider in any app (hops, tracebacks, snapshots...)."""
    pairs = []
    for f in Provider._meta.get_fields(include_hidden=True):
        if isinstance(f, models.ManyToOneRel) and f.auto_created and f.one_to_many:
            if f.related_model is Provider and f.field.name == "merged_into":
                continue
            pairs.append((cast(type[models.Model], f.related_model), f.field.name))
    return pairs


def merge_providers(*, actor: User | None, source: Provider, target: Provider, reason: str = "") -> Provider:
    """Merge `source` (usually a pending record a hop created) into `target`: every hop,
    traceback outcome and other reference moves to the survivor; `source` stays as a
    MERGED tombstone pointing at it, so old links and lookups still resolve."""
    require_consortium(actor)
    if source.pk == target.pk:
        raise ValidationError({"target": "a provider cannot be merged into itself"})
    with transaction.atomic():
        source = Provider.objects.select_for_update().get(pk=source.pk)
        target = Provider.objects.select_for_update().get(pk=target.pk)
        if source.status == Provider.Status.MERGED:
            raise ValidationError({"source": f"{source.name} is already merged"})
        if target.status == Provider.Status.MERGED:
            raise ValidationError({"target": f"{target.name} is merged; merge into the record it points to"})
        if source.organisation_id and target.organisation_id:
            raise ValidationError({"source": "both records have platform accounts; they are different providers"})
        # Snapshots that would collide are dropped; apps above keep rows per provider that
        # would collide too (scorecards and flags, recomputed anyway) and drop theirs here.
        RmdSnapshot.objects.filter(provider=source, rmd_import__in=RmdSnapshot.objects.filter(provider=target).values("rmd_import")).delete()
        provider_merging.send(sender=Provider, source_id=source.pk, target_id=target.pk)
        moved = _references_to(_foreign_keys_to_provider(), source, target)
        # Names and identifiers the source was known by keep resolving to the survivor.
        for alias in [source.name, *source.dba_names]:
            if alias and normalise_name(alias) not in {normalise_name(n) for n in [target.name, *target.dba_names]}:
                target.dba_names = [*target.dba_names, alias]
        target.ocns = sorted({*target.ocns, *source.ocns})
        for key in ("frn", "spc", "contact_name", "contact_email", "contact_phone", "fallback_contact_email"):
            if not getattr(target, key) and getattr(source, key):
                setattr(target, key, getattr(source, key))
        if source.organisation_id and not target.organisation_id:
            org = source.organisation
            source.organisation = None
            source.save(update_fields=["organisation"])
            target.organisation = org
        target.save()
        source.status = Provider.Status.MERGED
        source.merged_into = target
        source.save(update_fields=["status", "merged_into", "updated_at"])
        audit.record(
            action="provider.merged",
            actor=actor,
            obj=target,
            data={"source": source.pk, "source_name": source.name, "target": target.pk, "moved": moved, "reason": reason},
        )
    return target


def provider_for_organisation(org: Organisation) -> Provider | None:
    try:
        return Provider.objects.get(organisation=org)
    except Provider.DoesNotExist:
        return None


def link_organisation(*, actor: User | None, organisation: Organisation) -> Provider:
    """Give a provider organisation its registry record: the existing one matched by FRN,
    SPC, OCN or name, or a new one. Called when a provider organisation is created."""
    existing = provider_for_organisation(organisation)
    if existing is not None:
        return existing
    with transaction.atomic():
        match = None
        for text in (organisation.frn, organisation.spc, organisation.ocn, organisation.name):
            if text:
                match = find_provider(text=text)
                if match is not None and match.organisation_id is None:
                    break
                match = None
        if match is None:
            match = Provider(name=organisation.name, status=Provider.Status.ACTIVE)
        match.organisation = organisation
        if match.status == Provider.Status.PENDING:
            match.status = Provider.Status.ACTIVE
        for attr in ("frn", "spc"):
            if not getattr(match, attr) and getattr(organisation, attr):
                setattr(match, attr, getattr(organisation, attr))
        if organisation.ocn and organisation.ocn.upper() not in match.ocns:
            match.ocns = [*match.ocns, organisation.ocn.upper()]
        if organisation.country:
            match.country = organisation.country.upper()
        match.timezone = organisation.timezone or match.timezone
        match.save()
        audit.record(
            action="provider.account_linked",
            actor=actor,
            obj=match,
            subject_org=organisation,
            data={"organisation": organisation.pk},
        )
    return match


# --- the provider's own webhook for hop requests ------------------------------------------------


@dataclass
class HopWebhook:
    provider: Provider
    secret: str  # the new signing secret: shown to the provider once, then only used to sign


def _own_provider(organisation: Organisation) -> Provider:
    if not organisation.is_provider:
        raise PermissionDenied("only a provider registers a webhook for its hop requests")
    provider = provider_for_organisation(organisation)
    if provider is None:
        raise ValidationError({"provider": "your organisation has no registry record yet; ask the consortium"})
    return provider


def set_hop_webhook(*, actor: User, organisation: Organisation, url: str) -> HopWebhook:
    """Where the platform POSTs the organisation's hop requests (signed Standard Webhooks).
    Registering, or moving, the address issues a new signing secret, returned once."""
    require_can_write(actor, PermissionDenied)
    url = webhooks.check_url(url, allow_insecure=conf.WEBHOOK_ALLOW_INSECURE)
    secret = webhooks.new_secret()
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=_own_provider(organisation).pk)
        before = provider.webhook_url
        provider.webhook_url, provider.webhook_secret, provider.webhook_secret_set_at = url, secret, timezone.now()
        provider.save(update_fields=["webhook_url", "webhook_secret", "webhook_secret_set_at", "updated_at"])
        audit.record(action="provider.hop_webhook_set", actor=actor, obj=provider, subject_org=organisation,
                     data={"url": url, "previous_url": before})  # fmt: skip
    return HopWebhook(provider, secret)


def rotate_hop_webhook_secret(*, actor: User, organisation: Organisation) -> HopWebhook:
    """A new signing secret for the registered address; the old one stops signing at once
    (deliveries still being retried are signed with the new one)."""
    require_can_write(actor, PermissionDenied)
    secret = webhooks.new_secret()
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=_own_provider(organisation).pk)
        if not provider.webhook_url:
            raise ValidationError({"url": "no webhook is registered"})
        provider.webhook_secret, provider.webhook_secret_set_at = secret, timezone.now()
        provider.save(update_fields=["webhook_secret", "webhook_secret_set_at", "updated_at"])
        audit.record(action="provider.hop_webhook_secret_rotated", actor=actor, obj=provider, subject_org=organisation,
                     data={"url": provider.webhook_url})  # fmt: skip
    return HopWebhook(provider, secret)


def remove_hop_webhook(*, actor: User, organisation: Organisation) -> Provider:
    """Stop webhook delivery; hop requests still arrive in the inbox and by e-mail."""
    require_can_write(actor, PermissionDenied)
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=_own_provider(organisation).pk)
        before = provider.webhook_url
        provider.webhook_url, provider.webhook_secret, provider.webhook_secret_set_at = "", "", None
        provider.save(update_fields=["webhook_url", "webhook_secret", "webhook_secret_set_at", "updated_at"])
        audit.record(action="provider.hop_webhook_removed", actor=actor, obj=provider, subject_org=organisation, data={"url": before})
    return provider


def ping_hop_webhook(*, actor: User, organisation: Organisation) -> tuple[int | None, str]:
    """POST a signed `ping` to the registered address now, so the provider can check its
    receiver: (HTTP status or None, "" or why it failed). Audited either way."""
    require_can_write(actor, PermissionDenied)
    provider = _own_provider(organisation)
    if not provider.webhook_url:
        raise ValidationError({"url": "no webhook is registered"})
    payload = {"type": "ping", "timestamp": timezone.now().isoformat(), "data": {"provider_id": provider.pk}}
    body = json.dumps(payload, separators=(",", ":")).encode()
    code, error = webhooks.post_signed(provider.webhook_url, body, provider.webhook_secret, msg_id=f"msg_{uuid.uuid4().hex}",
                                       timeout=conf.WEBHOOK_TIMEOUT_SECONDS, allow_insecure=conf.WEBHOOK_ALLOW_INSECURE,
                                       user_agent="Robotrace-Hops/1")  # fmt: skip
    with transaction.atomic():
        audit.record(action="provider.hop_webhook_pinged", actor=actor, obj=provider, subject_org=organisation,
                     outcome="failure" if error else "success", data={"url": provider.webhook_url, "status": code, "error": error})  # fmt: skip
    return code, error
