"""Reads for the shaken app."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from robotrace.shaken.models import ShakenVerification, SpcDirectory

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def verifications(org: Organisation) -> QuerySet[ShakenVerification]:
    return ShakenVerification.objects.for_org(org).select_related("signer_provider")


def search(
    org: Organisation, *, spc: str = "", provider: str = "", outcome: str = "", attest: str = "", q: str = ""
) -> QuerySet[ShakenVerification]:
    """Filter by signer SPC, provider (id or name fragment), verdict (outcome, or
    'verified'/'failed') and attestation; `q` matches origid, numbers or report id."""
    qs = verifications(org)
    if spc:
        qs = qs.filter(signer_spc__iexact=spc.strip())
    if provider:
        p = provider.strip()
        qs = qs.filter(signer_provider_id=int(p)) if p.isdigit() else qs.filter(signer_provider__name__icontains=p)
    if outcome == "verified":
        qs = qs.filter(verified=True)
    elif outcome == "failed":
        qs = qs.filter(verified=False)
    elif outcome:
        qs = qs.filter(outcome=outcome)
    if attest:
        qs = qs.filter(attest=attest.upper()[:1])
    if q:
        term = q.strip()
        cond = Q(origid__iexact=term) | Q(orig_tn__contains=term) | Q(dest_tn__contains=term) | Q(calling_number_e164__contains=term)
        if term.isdigit():
            cond |= Q(report_id=int(term))
        qs = qs.filter(cond)
    return qs


def _count_by(qs: QuerySet[ShakenVerification], field: str) -> dict[Any, int]:
    return {row[field]: row["n"] for row in qs.order_by().values(field).annotate(n=Count("id"))}


def overview(org: Organisation, *, days: int = 30) -> dict[str, Any]:
    since = timezone.now() - dt.timedelta(days=days)
    qs = verifications(org).filter(call_started_at__gte=since)
    totals = qs.aggregate(total=Count("id"), n_verified=Count("id", filter=Q(verified=True)))
    by_outcome = _count_by(qs, "outcome")
    attest = _count_by(qs.filter(verified=True), "attest")
    codes = _count_by(qs.filter(verified=False), "sip_code")
    top = list(
        qs.exclude(signer_spc="")
        .order_by()
        .values("signer_spc", "signer_provider_id", "signer_provider__name")
        .annotate(
            total=Count("id"),
            n_verified=Count("id", filter=Q(verified=True)),
            a=Count("id", filter=Q(verified=True, attest="A")),
            b=Count("id", filter=Q(verified=True, attest="B")),
            c=Count("id", filter=Q(verified=True, attest="C")),
            n_failed=Count("id", filter=Q(verified=False)),
        )
        .order_by("-total", "signer_spc")[:12]
    )
    labels = [c.label for c in ShakenVerification.Outcome]
    values = [by_outcome.get(c.value, 0) for c in ShakenVerification.Outcome]
    return {
        "days": days,
        "total": totals["total"] or 0,
        "verified": totals["n_verified"] or 0,
        "failed": (totals["total"] or 0) - (totals["n_verified"] or 0),
        "share": round(100 * (totals["n_verified"] or 0) / totals["total"], 1) if totals["total"] else 0,
        "outcome_chart": {"labels": labels, "data": values},
        "attest_chart": {"labels": ["A", "B", "C"], "data": [attest.get(k, 0) for k in "ABC"]},
        "codes": sorted(codes.items()),
        "top_signers": top,
        "recent_failures": list(verifications(org).filter(verified=False).order_by("-call_started_at")[:10]),
        "directory_size": SpcDirectory.objects.count(),
    }


def for_report(org: Organisation, report_id: int) -> ShakenVerification | None:
    return verifications(org).filter(report_id=report_id).first()
