"""Reads for the tracebacks app. Providers only ever get their own hops from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from robotrace.tracebacks.models import Hop, Traceback, TracebackEvent

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

OPEN = (Hop.Status.REQUESTED, Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE)


def hops_for_provider(org: Organisation, *, open_only: bool = True) -> QuerySet[Hop]:
    """The organisation's own hop requests (never anyone else's)."""
    qs = Hop.objects.for_org(org).filter(provider__organisation=org) if not org.is_consortium else Hop.objects.for_org(org)
    if open_only:
        qs = qs.filter(status__in=OPEN)
    return qs.select_related("traceback", "provider", "named_by")


def own_hop(org: Organisation, hop_id: int) -> Hop | None:
    if not org.is_provider:
        return None
    return hops_for_provider(org, open_only=False).filter(id=hop_id).first()


def tracebacks_for(org: Organisation) -> QuerySet[Traceback]:
    """Tracebacks an organisation may read in full: consortium all, agencies their entitled ones.
    Providers never read whole tracebacks (they read their hop)."""
    if org.is_provider or org.is_reporter:
        return Traceback.objects.none()
    return Traceback.objects.for_org(org).distinct()


def board_stats(org: Organisation) -> dict[str, Any]:
    now = timezone.now()
    tbs = Traceback.objects.for_org(org)
    hops = Hop.objects.for_org(org)
    open_tbs = tbs.filter(status=Traceback.Status.IN_PROGRESS)
    day = now - timedelta(hours=24)
    return {
        "open": open_tbs.count(),
        "overdue_hops": hops.filter(status=Hop.Status.OVERDUE).count(),
        "non_responsive_hops": hops.filter(status=Hop.Status.NON_RESPONSIVE).count(),
        "due_soon": hops.filter(status=Hop.Status.REQUESTED, due_at__lte=now + timedelta(hours=4)).count(),
        "completed_24h": tbs.filter(status=Traceback.Status.COMPLETED, completed_at__gte=day).count(),
        "shaken_mismatch": tbs.filter(shaken_mismatch=True).count(),
    }


def outcome_counts(org: Organisation) -> list[tuple[str, str, int]]:
    rows = dict(Traceback.objects.for_org(org).values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return [(value, label, rows.get(value, 0)) for value, label in Traceback.Outcome.choices]


def open_by_provider(org: Organisation, limit: int = 15) -> list[dict[str, Any]]:
    return list(
        Hop.objects.for_org(org).filter(status__in=OPEN).values("provider_id", "provider__name")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(status__in=[Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE])))
        .order_by("-overdue", "-open")[:limit]
    )


def open_by_campaign(org: Organisation, limit: int = 15) -> list[dict[str, Any]]:
    return list(
        Traceback.objects.for_org(org).filter(campaign__isnull=False).values("campaign_id", "campaign__name")
        .annotate(open=Count("id", filter=Q(status=Traceback.Status.IN_PROGRESS)), total=Count("id"),
                  completed=Count("id", filter=Q(status=Traceback.Status.COMPLETED)))
        .order_by("-open", "-total")[:limit]
    )


def escalations(org: Organisation, limit: int = 20) -> QuerySet[Hop]:
    return Hop.objects.for_org(org).filter(status__in=[Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE]).select_related(
        "traceback", "provider").order_by("due_at")[:limit]


def timeline(tb: Traceback) -> QuerySet[TracebackEvent]:
    return tb.events.all()


def chain(tb: Traceback) -> list[Hop]:
    """The hop path in order, the parallel signer request last."""
    # Sorted here, so no ORDER BY: the model's default ordering goes through the traceback's
    # own ordering, which costs a join and most of the query's compile time.
    hops = list(tb.hops.select_related("provider", "upstream_provider", "named_by").order_by())
    path = [h for h in hops if not (h.is_direct_signer_request and h.named_by_id is None)]
    parallel = [h for h in hops if h.is_direct_signer_request and h.named_by_id is None]
    return sorted(path, key=lambda h: h.sequence) + parallel


# --- What a traceback found, for subscribers of traceback events (tracebacks.events) ---------


@dataclass(frozen=True)
class Outcome:
    """A traceback's result as plain values. Provider and customer are names ("" when none);
    `status` and `outcome` are the model's choice values, `outcome_label` its wording."""

    id: int
    ref: str
    campaign_id: int | None
    status: str
    outcome: str
    outcome_label: str
    originating_provider_id: int | None
    originating_provider: str
    originating_customer: str
    point_of_entry_provider: str
    completed_at: datetime | None

    @property
    def is_completed(self) -> bool:
        return self.status == Traceback.Status.COMPLETED


def _outcomes(qs: QuerySet[Traceback]) -> list[Outcome]:
    labels = dict(Traceback.Outcome.choices)
    rows = qs.values_list("id", "campaign_id", "status", "outcome", "originating_provider_id", "originating_provider__name",
                          "originating_customer", "point_of_entry_provider__name", "completed_at")
    return [
        Outcome(id=pk, ref=f"TB-{pk:06d}", campaign_id=campaign_id, status=status, outcome=outcome, outcome_label=str(labels.get(outcome, outcome)),
                originating_provider_id=origin_id, originating_provider=origin or "", originating_customer=str((customer or {}).get("name") or ""),
                point_of_entry_provider=entry or "", completed_at=completed_at)
        for pk, campaign_id, status, outcome, origin_id, origin, customer, entry, completed_at in rows
    ]


def outcome(traceback_id: int) -> Outcome | None:
    """One traceback's result now (system read: the subscriber decides who sees it)."""
    found = _outcomes(Traceback.objects.unscoped(reason="traceback outcome for an event subscriber").filter(id=traceback_id).order_by())
    return found[0] if found else None


def completed_outcomes(campaign_id: int, *, limit: int = 100) -> list[Outcome]:
    """A campaign's completed tracebacks, the latest first (system read, as `outcome`)."""
    return _outcomes(
        Traceback.objects.unscoped(reason="completed tracebacks of a campaign for an event subscriber")
        .filter(campaign_id=campaign_id, status=Traceback.Status.COMPLETED).order_by("-completed_at")[:limit]
    )


def hop_view(hop: Hop) -> dict[str, Any]:
    """A provider's view of its own hop: the call, who named it and its clock; never the rest
    of the chain. Shared by the API and the webhook payload so the two cannot drift apart."""
    tb = hop.traceback
    return {
        "traceback": tb.ref,
        "kind": tb.kind,
        "status": hop.status,
        "call": {
            "started_at": tb.call_started_at.isoformat(),
            "timezone": tb.call_timezone,
            "calling_number": tb.calling_number,
            "called_number": tb.called_number,
            "callback_number": tb.callback_number,
        },
        "named_by": hop.named_by.name if hop.named_by else None,
        "direct_signer_request": hop.is_direct_signer_request and hop.named_by_id is None,
        "received_at": hop.received_at.isoformat(),
        "due_at": hop.due_at.isoformat(),
    }


def any_hops() -> bool:
    return Hop.objects.unscoped(reason="is there anything to score?").exists()
