"""Hand-built tracebacks and hops for provider tests (straight into the tracebacks tables,
the way the tracebacks app leaves them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from robotrace.campaigns.models import Campaign
from robotrace.providers.models import Provider
from robotrace.tracebacks.models import Hop, Traceback


def provider(name: str, **kw: Any) -> Provider:
    return Provider.objects.create(name=name, **kw)


def campaign(name: str = "Auto warranty", status: str = Campaign.Status.CONFIRMED) -> Campaign:
    return Campaign.objects.create(name=name, status=status)


def traceback(*, at: datetime, campaign: Campaign | None = None, legal_basis: list[str] | None = None, **kw: Any) -> Traceback:
    return Traceback.objects.create(
        call_started_at=at - timedelta(hours=1),
        calling_number="+12025550100",
        called_number="+19195550123",
        created_at=at,
        campaign=campaign,
        legal_basis=legal_basis or [],
        **kw,
    )


def hop(
    tb: Traceback,
    prov: Provider,
    *,
    received_at: datetime,
    answer_after: timedelta | None = None,
    response: str = "",
    customer_action: str = "",
    sequence: int = 1,
    status: str | None = None,
) -> Hop:
    answered_at = received_at + answer_after if answer_after is not None else None
    if status is None:
        status = Hop.Status.ANSWERED if answered_at else Hop.Status.REQUESTED
    return Hop.objects.create(
        traceback=tb,
        sequence=sequence,
        provider=prov,
        status=status,
        received_at=received_at,
        clock_starts_at=received_at,
        due_at=received_at + timedelta(hours=24),
        answered_at=answered_at,
        response=response,
        customer_action=customer_action,
    )


def unanswered(prov: Provider, n: int, *, at: datetime, campaign: Campaign | None = None) -> list[Traceback]:
    """n tracebacks whose hop to `prov` is past due and never answered."""
    out = []
    for i in range(n):
        tb = traceback(at=at + timedelta(minutes=i), campaign=campaign)
        hop(tb, prov, received_at=at + timedelta(minutes=i), status=Hop.Status.NON_RESPONSIVE)
        out.append(tb)
    return out
