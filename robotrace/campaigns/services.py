"""Writes (one transaction each, with audit events) for the campaigns app.

Analyst actions on campaigns. Only consortium staff with write access may change campaigns;
every change writes a CampaignChange row (what moved where, who, why) and an audit event.
Merges and splits also bump the engine's index version so every process rebuilds its
in-memory index from the tables before assigning more reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from robotrace.audit import services as audit
from robotrace.campaigns import events, store
from robotrace.campaigns.models import (
    Campaign,
    CampaignChange,
    CampaignEvent,
    CampaignExemplar,
    CampaignLink,
    CampaignText,
    Category,
    LegalBasis,
)
from robotrace.campaigns.textsim import normalise, text_hash
from robotrace.ingest import services as ingest
from robotrace.ingest.queries import all_reports

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User


def _check(actor: User | None, organisation: Organisation) -> None:
    if actor is not None and getattr(actor, "organisation_id", None) != organisation.pk:
        raise PermissionDenied("the actor does not belong to this organisation")
    if not organisation.is_consortium:
        raise PermissionDenied("only consortium staff change campaigns")
    if actor is not None and not getattr(actor, "can_write", True):
        raise PermissionDenied("read-only users cannot change campaigns")


def _get(campaign_id: int, organisation: Organisation, *, lock: bool = True) -> Campaign:
    qs = Campaign.objects.for_org(organisation)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=campaign_id)
    except Campaign.DoesNotExist as exc:
        raise ValidationError(f"campaign C-{campaign_id} does not exist") from exc


def _change(kind: str, *, actor: User | None, reason: str, from_c: Campaign | None = None, to_c: Campaign | None = None, data: dict[str, Any] | None = None) -> CampaignChange:
    return CampaignChange.objects.create(
        kind=kind, from_campaign=from_c, to_campaign=to_c, actor=actor,
        actor_label=actor.email if actor is not None else "system", at=timezone.now(), reason=reason, data=data or {},
    )


def rename(*, actor: User | None, organisation: Organisation, campaign_id: int, name: str, reason: str = "") -> Campaign:
    _check(actor, organisation)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "a name is required"})
    if len(name) > 200:
        raise ValidationError({"name": "at most 200 characters"})
    with transaction.atomic():
        c = _get(campaign_id, organisation)
        old = c.name
        c.name, c.name_is_auto = name, False
        c.save(update_fields=["name", "name_is_auto"])
        _change(CampaignChange.Kind.RENAME, actor=actor, reason=reason, to_c=c, data={"from": old, "to": name})
        audit.record(action="campaign.rename", actor=actor, obj=c, data={"from": old, "to": name, "reason": reason})
    return c


def recategorise(*, actor: User | None, organisation: Organisation, campaign_id: int, category: str, reason: str = "") -> Campaign:
    """Set the category by hand; the engine never overwrites an analyst's category."""
    _check(actor, organisation)
    if category not in Category.values or category == Category.UNKNOWN:
        raise ValidationError({"category": f"unknown category {category!r}"})
    with transaction.atomic():
        c = _get(campaign_id, organisation)
        old = c.category
        c.category, c.category_source = category, Campaign.CategorySource.ANALYST
        c.save(update_fields=["category", "category_source"])
        _change(CampaignChange.Kind.RECATEGORISE, actor=actor, reason=reason, to_c=c, data={"from": old, "to": category})
        audit.record(action="campaign.recategorise", actor=actor, obj=c, data={"from": old, "to": category, "reason": reason})
    return c


def merge(*, actor: User | None, organisation: Organisation, campaign_id: int, into_id: int, reason: str) -> Campaign:
    """Merge campaign `campaign_id` into `into_id`: its reports, exemplars, exact-text index and
    links move; the merged campaign stays (status MERGED, `merged_into` set) so its id keeps
    resolving — ids are never reused or renumbered."""
    _check(actor, organisation)
    if not (reason or "").strip():
        raise ValidationError({"reason": "say why these campaigns are one"})
    if campaign_id == into_id:
        raise ValidationError({"into": "a campaign cannot be merged into itself"})
    with store._lock, transaction.atomic():
        state = store.lock_state()
        src = _get(campaign_id, organisation)
        dst = _get(into_id, organisation)
        if src.status == Campaign.Status.MERGED or dst.status == Campaign.Status.MERGED:
            raise ValidationError("a campaign that was already merged cannot take part in another merge")
        moved = ingest.move_between_campaigns(from_campaign_id=src.pk, to_campaign_id=dst.pk)
        CampaignExemplar.objects.filter(campaign=src).update(campaign=dst)
        CampaignText.objects.filter(campaign_id=src.pk).update(campaign_id=dst.pk)
        CampaignLink.objects.filter(campaign=src).update(campaign=dst)
        src.status, src.merged_into = Campaign.Status.MERGED, dst
        src.save(update_fields=["status", "merged_into"])
        _change(CampaignChange.Kind.MERGE, actor=actor, reason=reason, from_c=src, to_c=dst, data={"reports": moved})
        audit.record(action="campaign.merge", actor=actor, obj=dst, data={"from": src.pk, "into": dst.pk, "reports": moved, "reason": reason})
        store.bump_version(state)
        store.refresh_campaigns([src.pk, dst.pk])
        dst.refresh_from_db()
    return dst


def split(*, actor: User | None, organisation: Organisation, campaign_id: int, report_ids: Sequence[int], name: str = "", reason: str) -> Campaign:
    """Move the selected reports to a new campaign. Their transcripts' exact-text index rows
    and any exemplars among them move too, so later copies follow them; the remaining
    campaign keeps its id."""
    _check(actor, organisation)
    if not (reason or "").strip():
        raise ValidationError({"reason": "say why these reports are a different campaign"})
    ids = sorted({int(i) for i in report_ids})
    if not ids:
        raise ValidationError({"report_ids": "select at least one report"})
    with store._lock, transaction.atomic():
        state = store.lock_state()
        src = _get(campaign_id, organisation)
        reports = list(all_reports(reason="campaign split").filter(campaign_id=src.pk, pk__in=ids))
        if len(reports) != len(ids):
            missing = sorted(set(ids) - {r.pk for r in reports})
            raise ValidationError({"report_ids": f"not in C-{src.pk}: {', '.join(map(str, missing[:10]))}"})
        if len(reports) == src.report_count:
            raise ValidationError({"report_ids": "a split must leave at least one report behind"})
        new = Campaign.objects.create(
            name=(name or "").strip()[:200] or f"Split from C-{src.pk}",
            name_is_auto=not (name or "").strip(),
            category=src.category,
            category_source=src.category_source,
        )
        ingest.assign_to_campaign(report_ids=ids, campaign_id=new.pk)
        keys = {text_hash(normalise(r.transcript)) for r in reports if r.transcript}
        CampaignText.objects.filter(campaign_id=src.pk, key__in=keys).update(campaign_id=new.pk)
        CampaignExemplar.objects.filter(campaign=src, key__in=keys).update(campaign=new)
        if not CampaignExemplar.objects.filter(campaign=new).exists():
            texts = [r for r in reports if r.transcript]
            if texts:
                longest = max(texts, key=lambda r: len(r.transcript))
                CampaignExemplar.objects.create(campaign=new, key=text_hash(normalise(longest.transcript)), text=longest.transcript)
        _change(CampaignChange.Kind.SPLIT, actor=actor, reason=reason, from_c=src, to_c=new, data={"report_ids": ids[:1000], "reports": len(ids)})
        audit.record(action="campaign.split", actor=actor, obj=new, data={"from": src.pk, "to": new.pk, "reports": len(ids), "reason": reason})
        events.emit(new, CampaignEvent.Kind.OPENED, "opened", {"method": "split", "from": src.pk})
        store.bump_version(state)
        store.refresh_campaigns([src.pk, new.pk])
        new.refresh_from_db()
    return new


def confirm_illegal(*, actor: User | None, organisation: Organisation, campaign_id: int, legal_basis: Sequence[str], reason: str = "") -> Campaign:
    _check(actor, organisation)
    basis = [b for b in dict.fromkeys(legal_basis or [])]
    if not basis:
        raise ValidationError({"legal_basis": "name at least one legal basis"})
    bad = [b for b in basis if b not in LegalBasis.values]
    if bad:
        raise ValidationError({"legal_basis": f"unknown legal basis {', '.join(bad)}"})
    with transaction.atomic():
        c = _get(campaign_id, organisation)
        if c.status in (Campaign.Status.MERGED, Campaign.Status.CLOSED):
            raise ValidationError(f"a {c.get_status_display().lower()} campaign cannot be confirmed")
        c.status, c.legal_basis, c.confirmed_at = Campaign.Status.CONFIRMED, basis, timezone.now()
        c.save(update_fields=["status", "legal_basis", "confirmed_at"])
        _change(CampaignChange.Kind.CONFIRM, actor=actor, reason=reason, to_c=c, data={"legal_basis": basis})
        audit.record(action="campaign.confirm", actor=actor, obj=c, data={"legal_basis": basis, "reason": reason})
        events.emit(c, CampaignEvent.Kind.CONFIRMED, "confirmed", {"legal_basis": basis})
    return c


def close(*, actor: User | None, organisation: Organisation, campaign_id: int, reason: str) -> Campaign:
    _check(actor, organisation)
    if not (reason or "").strip():
        raise ValidationError({"reason": "say why the campaign is closed"})
    with transaction.atomic():
        c = _get(campaign_id, organisation)
        if c.status in (Campaign.Status.MERGED, Campaign.Status.CLOSED):
            raise ValidationError(f"the campaign is already {c.get_status_display().lower()}")
        c.status, c.closed_at = Campaign.Status.CLOSED, timezone.now()
        c.save(update_fields=["status", "closed_at"])
        _change(CampaignChange.Kind.CLOSE, actor=actor, reason=reason, to_c=c)
        audit.record(action="campaign.close", actor=actor, obj=c, data={"reason": reason})
    return c


def reopen(*, actor: User | None, organisation: Organisation, campaign_id: int, reason: str = "") -> Campaign:
    _check(actor, organisation)
    with transaction.atomic():
        c = _get(campaign_id, organisation)
        if c.status != Campaign.Status.CLOSED:
            raise ValidationError("only a closed campaign can be reopened")
        c.status = Campaign.Status.CONFIRMED if c.confirmed_at else Campaign.Status.SUSPECTED
        c.closed_at = None
        c.save(update_fields=["status", "closed_at"])
        _change(CampaignChange.Kind.REOPEN, actor=actor, reason=reason, to_c=c)
        audit.record(action="campaign.reopen", actor=actor, obj=c, data={"reason": reason})
    return c
