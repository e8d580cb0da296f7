from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from robotrace.audit.models import AuditChainHead, AuditEvent
from robotrace.audit.services import GENESIS, compute_hash


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    reason: str


def verify_chain(batch_size: int = 5000) -> list[ChainProblem]:
    """Walk the chain in order; report every edited, reordered or deleted event."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            count += 1
            if event.prev_hash != prev:
                problems.append(ChainProblem(event.id, "previous hash does not match: an event before it was deleted or edited"))
            if compute_hash(event) != event.hash:
                problems.append(ChainProblem(event.id, "contents do not match the hash: the event was edited"))
            prev = event.hash
            last_id = event.id
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None:
        if head.last_hash != prev:
            problems.append(ChainProblem(None, "the newest events were deleted: chain head does not match"))
        if head.count != count:
            problems.append(ChainProblem(None, f"the head counts {head.count} events but {count} remain"))
    return problems


def events(
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    org_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str = "",
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor_org", "subject_org").order_by("-id")
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if action:
        qs = qs.filter(action__icontains=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if org_id:
        qs = qs.filter(Q(subject_org_id=org_id) | Q(actor_org_id=org_id))
    return qs


def action_names() -> list[str]:
    """Distinct actions, for the filter's suggestions."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:500])


def iter_all() -> Iterator[AuditEvent]:
    yield from AuditEvent.objects.order_by("id").iterator()


def organisations() -> QuerySet[Any]:
    """Every organisation, by name, for the browser's filter: reached through the events' own
    foreign key, as the audit app sits below accounts and does not import it."""
    organisation = AuditEvent._meta.get_field("subject_org").related_model
    return organisation.objects.order_by("name")  # type: ignore[union-attr]
