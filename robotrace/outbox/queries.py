"""Reads of the outbox, organisation-scoped: the consortium sees every delivery, another
organisation those addressed to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from robotrace.outbox.models import Attempt, Delivery

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

S = Delivery.Status


def deliveries_for(org: Organisation) -> QuerySet[Delivery]:
    return Delivery.objects.for_org(org)


def attempts_for(org: Organisation) -> QuerySet[Attempt]:
    return Attempt.objects.for_org(org)


def about(org: Organisation, object_type: str, object_ids: Iterable[int]) -> QuerySet[Delivery]:
    """The deliveries `org` may see about these objects ("alerts.alert", [ids])."""
    return deliveries_for(org).filter(object_type=object_type, object_id__in=list(object_ids))


def object_ids_with_status(org: Organisation, object_type: str, status: str) -> QuerySet[Delivery, Any]:
    """Ids of the objects that have a delivery in `status` (for a filter subquery)."""
    return deliveries_for(org).filter(object_type=object_type, status=status).values("object_id")


@dataclass(frozen=True)
class Backlog:
    pending: int = 0  # waiting for a first attempt
    sending: int = 0
    retrying: int = 0  # failed, will retry
    gave_up: int = 0
    delivered_24h: int = 0
    failed_attempts_24h: int = 0

    @property
    def waiting(self) -> int:
        return self.pending + self.sending + self.retrying


def backlog(org: Organisation) -> Backlog:
    since = timezone.now() - timedelta(hours=24)
    qs = deliveries_for(org)
    counts = qs.aggregate(
        pending=Count("id", filter=Q(status=S.PENDING)),
        sending=Count("id", filter=Q(status=S.SENDING)),
        retrying=Count("id", filter=Q(status=S.RETRYING)),
        gave_up=Count("id", filter=Q(status=S.GAVE_UP)),
        delivered_24h=Count("id", filter=Q(status=S.DELIVERED, delivered_at__gte=since)),
    )
    failed = attempts_for(org).filter(ok=False, at__gte=since).count()
    return Backlog(failed_attempts_24h=failed, **{k: int(v or 0) for k, v in counts.items()})


Status = Delivery.Status  # for apps that filter or label deliveries


def status_counts(object_type: str) -> list[tuple[str, str, int]]:
    """(channel, status, deliveries) about every object of a type, whoever they are for: the
    operators' overview (`robotrace alerts status`)."""
    rows = (
        Delivery.objects.unscoped(reason="delivery counts for an operator's status command").filter(object_type=object_type)
        .values("channel", "status").annotate(n=Count("id")).order_by("channel", "status")
    )
    return [(r["channel"], r["status"], r["n"]) for r in rows]
