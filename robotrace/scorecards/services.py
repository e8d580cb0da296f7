"""Writes of the scorecards app: telling flagged providers, and disputes of a flag.

Each function is keyword-only, takes the acting user (None for system work), runs in one
transaction and records an audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from robotrace.accounts.queries import member_emails
from robotrace.audit import services as audit
from robotrace.outbox import services as outbox
from robotrace.providers import queries as registry
from robotrace.providers.services import PermissionDenied, require_consortium
from robotrace.scorecards.models import Dispute, ProviderFlag, ProviderNotice, ProviderScorecard

if TYPE_CHECKING:
    from robotrace.accounts.models import User
    from robotrace.providers.models import Provider

__all__ = ["PermissionDenied", "file_dispute", "notify_flagged", "resolve_dispute"]


def _recipients(provider: Provider) -> list[str]:
    emails = [e for e in (provider.contact_email, provider.fallback_contact_email) if e]
    if provider.organisation_id:
        emails += member_emails(provider.organisation_id, admins_only=True)
    return sorted(set(emails))


def _absolute(path: str) -> str:
    base = getattr(settings, "SITE_URL", "") or ""
    return f"{base.rstrip('/')}{path}"


def notify_flagged(*, flagged: dict[int, list[str]], now: datetime | None = None) -> int:
    """Tell each newly flagged provider: an in-app notice, and an e-mail that carries only
    a link (the evidence stays behind the login), written to the outbox in the caller's
    transaction and retried until delivered."""
    now = now or timezone.now()
    labels = dict(ProviderFlag.Rule.choices)
    link = reverse("providers:my_scorecard")
    notices = []
    for provider in registry.providers_by_id(list(flagged)):
        rules = ", ".join(labels.get(r, r) for r in flagged[provider.id])
        notices.append(
            ProviderNotice(
                provider=provider,
                title="Listed as a non-cooperative provider",
                body=f"Rules met: {rules}. You can see the tracebacks behind each rule and file a dispute.",
                link=link,
                created_at=now,
            )
        )
        outbox.email(
            topic="provider.flagged", organisation_id=provider.organisation_id, to=_recipients(provider), about=provider,
            subject="Robotrace: your organisation has been flagged",
            body=(
                "Your organisation now meets one or more of the published non-cooperation criteria.\n"
                f"Sign in to see the details and file a dispute: {_absolute(link)}\n"
            ),
        )
    ProviderNotice.objects.bulk_create(notices, batch_size=1000)
    return len(notices)


def file_dispute(*, actor: User, flag: ProviderFlag, reason: str) -> Dispute:
    org = actor.organisation
    if org is None or not org.is_provider or flag.provider.organisation_id != org.id:
        raise PermissionDenied("a provider may only dispute its own flags")
    if not actor.can_write:
        raise PermissionDenied("read-only users cannot file disputes")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "say why the flag is wrong (at least 10 characters)"})
    with transaction.atomic():
        if Dispute.objects.for_org(org).filter(flag=flag, status=Dispute.Status.OPEN).exists():
            raise ValidationError({"flag": "there is already an open dispute on this flag"})
        dispute = Dispute.objects.create(flag=flag, provider=flag.provider, reason=reason, filed_by=actor, filed_at=timezone.now())
        audit.record(
            action="provider.dispute_filed", actor=actor, obj=dispute, subject_org=org, data={"flag": flag.pk, "rule": flag.rule}
        )
    return dispute


def resolve_dispute(*, actor: User | None, dispute: Dispute, decision: str, resolution: str) -> Dispute:
    """Uphold (the flag is withdrawn; only new evidence re-flags) or reject (it stands)."""
    require_consortium(actor)
    if decision not in (Dispute.Status.UPHELD, Dispute.Status.REJECTED):
        raise ValidationError({"decision": "decide 'upheld' or 'rejected'"})
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": "explain the decision to the provider"})
    with transaction.atomic():
        dispute = Dispute.objects.unscoped(reason="dispute resolution").select_for_update().get(pk=dispute.pk)
        if dispute.status != Dispute.Status.OPEN:
            raise ValidationError({"dispute": "this dispute is already resolved"})
        now = timezone.now()
        dispute.status, dispute.resolution, dispute.resolved_by, dispute.resolved_at = decision, resolution, actor, now
        dispute.save()
        flag = dispute.flag
        if decision == Dispute.Status.UPHELD:
            flag.active = False
            flag.cleared_at = now
            flag.dismissed_evidence_ids = sorted({*flag.dismissed_evidence_ids, *flag.evidence_ids})
            flag.save(update_fields=["active", "cleared_at", "dismissed_evidence_ids"])
        ProviderNotice.objects.create(
            provider=dispute.provider,
            title=f"Dispute {dispute.get_status_display().lower()}",
            body=resolution,
            link=reverse("providers:my_scorecard"),
            created_at=now,
        )
        audit.record(
            action="provider.dispute_resolved",
            actor=actor,
            obj=dispute,
            subject_org=dispute.provider.organisation,
            data={"decision": decision, "flag": flag.pk, "rule": flag.rule},
        )
    return dispute


def forget_merged_provider(*, source_id: int, target_id: int, **_: Any) -> None:
    """A registry merge is about to move every reference from the source to the target
    (providers.signals.provider_merging, inside the merge's transaction): the source's
    scorecards and flags would collide with the target's, and are recomputed by the next
    run anyway."""
    ProviderFlag.objects.unscoped(reason="merge: flags are re-evaluated").filter(provider_id=source_id).delete()
    ProviderScorecard.objects.unscoped(reason="merge: scorecards are recomputed").filter(provider_id=source_id).delete()
