"""Write audit events. Call `record` inside the transaction of the change it describes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from robotrace.audit import chain
from robotrace.audit.chain import GENESIS
from robotrace.audit.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    action: str,
    actor: User | None = None,
    actor_org: Organisation | None = None,
    actor_label: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    subject_org: Organisation | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `obj` fills `object_type`/`object_id` from a model instance. With an actor user and no
    explicit `actor_org`, the user's organisation is used.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_org = actor_org or getattr(actor, "organisation", None)
        actor_label = actor_label or actor.email
    else:
        actor = None
    if outcome == AuditEvent.Outcome.DENIED and request is not None:
        # The view audited its own refusal: the denial middleware does not add another.
        request.audit_denial_recorded = True  # type: ignore[attr-defined]  # a marker on this request object
    key = chain.signing_key()
    # savepoint=False: inside the caller's transaction (the usual case) this adds no
    # SAVEPOINT/RELEASE round trips; an error still rolls the caller's whole change back,
    # so the chain never records an event whose change did not happen (or vice versa).
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS}
        )
        event = AuditEvent(
            at=timezone.now(),
            action=action,
            outcome=outcome,
            actor_user=actor,
            actor_label=actor_label[:200] if actor_label else "system",
            actor_org=actor_org,
            subject_org=subject_org,
            object_type=object_type,
            object_id=str(object_id),
            source_ip=client_ip(request),
            data=json.loads(json.dumps(data or {}, default=str)),
            prev_hash=head.last_hash,
            mac_version=chain.HMAC_SHA256,
            key_id=key.id,
        )
        event.hash = chain.mac(event, key)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event
