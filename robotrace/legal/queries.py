"""Reads for the legal app, including `is_held`, which every app's automatic deletion must
consult: a preservation hold overrides every purge (FRCP 37(e))."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from robotrace.accounts import queries as accounts
from robotrace.audit import queries as audit_queries
from robotrace.ingest import queries as reports
from robotrace.legal.models import EvidencePackage, LegalRequest, LegalTarget, PreservationHold, Production
from robotrace.tracebacks import queries as tracebacks

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

_HOLD_REASON = "retention: preservation holds apply to every organisation's records"


def active_holds(now: datetime | None = None) -> QuerySet[PreservationHold]:
    now = now or timezone.now()
    return PreservationHold.objects.unscoped(reason=_HOLD_REASON).filter(released_at__isnull=True, expires_at__gt=now)


def _held(kind: str, key: str, *, at: datetime | None = None) -> bool:
    qs = active_holds().filter(kind=kind, object_key=str(key))
    if at is not None:
        # A hold with a date range freezes records of that period only.
        day = at.date()
        qs = qs.filter(Q(date_from__isnull=True) | Q(date_from__lte=day)).filter(Q(date_to__isnull=True) | Q(date_to__gte=day))
    return qs.exists()


def is_held(kind: str, id: Any) -> bool:
    """True while an active preservation hold covers the record; never delete it then.

    kinds: "phone" (an E.164 number), "campaign", "traceback", "provider", "call_report",
    "legal_request" (a request's own files, e.g. an expired production)."""
    if id is None or id == "":
        return False
    if kind in ("phone", "campaign", "provider"):
        return _held(kind, str(id))
    if kind == "traceback":
        if _held("traceback", str(id)):
            return True
        tb = tracebacks.hold_facts(int(id))
        if tb is None:
            return False
        if tb.campaign_id and _held("campaign", str(tb.campaign_id)):
            return True
        if any(_held("phone", n, at=tb.call_started_at) for n in tb.numbers):
            return True
        return any(_held("provider", str(p), at=tb.call_started_at) for p in tb.provider_ids)
    if kind == "call_report":
        r = reports.hold_facts(int(id))
        if r is None:
            return False
        if r.campaign_id and _held("campaign", str(r.campaign_id)):
            return True
        return any(_held("phone", n, at=r.call_started_at) for n in r.numbers)
    if kind == "legal_request":
        if active_holds().filter(request_id=id).exists():
            return True
        targets = LegalTarget.objects.unscoped(reason=_HOLD_REASON).filter(request_id=id)
        for t in targets:
            key = t.phone_e164 if t.kind == "phone" else str(getattr(t, f"{t.kind}_id"))
            if _held(t.kind, key):
                return True
        return False
    raise ValueError(f"unknown record kind {kind!r}")


def held_keys(kind: str) -> set[str]:
    """Every key of `kind` under an active hold, for purges that work in bulk."""
    return set(active_holds().filter(kind=kind).values_list("object_key", flat=True))


# --- lists --------------------------------------------------------------------------------------


def requests_for(org: Organisation) -> QuerySet[LegalRequest]:
    return LegalRequest.objects.for_org(org).select_related("agency", "assigned_to", "filed_by")


def queue(org: Organisation, *, status: str = "", due: str = "", mine_for: Any = None) -> QuerySet[LegalRequest]:
    """The review queue: emergencies first, then by due date."""
    qs = requests_for(org).annotate(n_targets=Count("targets", distinct=True))
    if status == "open" or not status:
        qs = qs.filter(status__in=["received", "in_review", "clarification_needed", "narrowed", "accepted"])
    elif status != "all":
        qs = qs.filter(status=status)
    if due:
        qs = qs.filter(due_state=due)
    if mine_for is not None:
        qs = qs.filter(assigned_to=mine_for)
    return qs.order_by("priority", "due_at", "id")


def queue_counts(org: Organisation) -> dict[str, int]:
    qs = LegalRequest.objects.for_org(org)
    open_qs = qs.filter(status__in=["received", "in_review", "clarification_needed", "narrowed", "accepted"])
    return {
        "open": open_qs.count(),
        "emergency": open_qs.filter(type=LegalRequest.Type.EMERGENCY).count(),
        "due_soon": open_qs.filter(due_state="due_soon").count(),
        "overdue": open_qs.filter(due_state="overdue").count(),
        "unassigned": open_qs.filter(assigned_to__isnull=True).count(),
    }


def productions_for(org: Organisation) -> QuerySet[Production]:
    return Production.objects.for_org(org).select_related("request", "request__agency")


def packages_for(org: Organisation) -> QuerySet[EvidencePackage]:
    return EvidencePackage.objects.for_org(org).select_related("produced_to")


def requests_naming_campaign(org: Organisation, campaign_id: int, *, limit: int = 20) -> list[LegalRequest]:
    qs = LegalRequest.objects.for_org(org).filter(targets__campaign_id=campaign_id).select_related("agency").distinct()
    return list(qs.order_by("-created_at")[:limit])


def packages_for_campaign(org: Organisation, campaign_id: int, *, limit: int = 20) -> list[EvidencePackage]:
    qs = EvidencePackage.objects.for_org(org).filter(campaign_id=campaign_id).select_related("produced_to")
    return list(qs.order_by("-created_at")[:limit])


# --- entitlements -------------------------------------------------------------------------------


def _ids_in_lists(rows: Iterable[list[Any] | None]) -> set[int]:
    """The ids in a JSON list column, over every row (empty or missing lists add nothing)."""
    return {int(i) for row in rows for i in row or []}


def campaign_ids_produced_to(org: Organisation) -> list[int]:
    """Campaigns in productions and evidence packages made to this agency."""
    if not org.is_agency:
        return []
    ids = _ids_in_lists(Production.objects.for_org(org).values_list("campaign_ids", flat=True))
    ids.update(
        EvidencePackage.objects.for_org(org).filter(status="done", campaign_id__isnull=False).values_list("campaign_id", flat=True)
    )
    return sorted(ids)


def traceback_ids_produced_to(org: Organisation) -> list[int]:
    if not org.is_agency:
        return []
    ids = _ids_in_lists(Production.objects.for_org(org).values_list("traceback_ids", flat=True))
    ids |= _ids_in_lists(EvidencePackage.objects.for_org(org).filter(status="done").values_list("included_traceback_ids", flat=True))
    return sorted(ids)


# --- statistics ---------------------------------------------------------------------------------


def statistics_summary(*, since: datetime | None = None, agency: Organisation | None = None) -> dict[str, Any]:
    """Transparency figures (counts only, no case details): across every agency for the
    consortium (agency None), or one agency's own requests. Another agency's counts by state
    would tell an agency who is investigating where, so they are never mixed in."""
    if agency is None:
        qs = LegalRequest.objects.unscoped(reason="transparency statistics (aggregates only)").select_related("agency")
    else:
        qs = LegalRequest.objects.for_org(agency).filter(agency=agency).select_related("agency")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = list(qs.values("pk", "type", "status", "agency__agency_level", "agency__jurisdiction", "created_at", "produced_at"))
    by_type = Counter(r["type"] for r in rows)
    by_status = Counter(r["status"] for r in rows)
    # Shown as chart labels, so use the words people read ("State", "Federal").
    level_labels = accounts.AGENCY_LEVEL_LABELS
    by_level = Counter(level_labels.get(r["agency__agency_level"] or "", "Other") for r in rows)
    by_state: Counter[str] = Counter()
    for r in rows:
        juris = r["agency__jurisdiction"] or []
        if isinstance(juris, list) and juris:
            for s in juris:
                by_state[s] += 1
        else:
            by_state["Federal / multi-state"] += 1
    hours = [(r["produced_at"] - r["created_at"]).total_seconds() / 3600 for r in rows if r["produced_at"]]
    decided = [r for r in rows if r["status"] not in ("received", "in_review", "clarification_needed", "withdrawn")]
    narrowed = sum(1 for r in decided if r["status"] == "narrowed")
    rejected = sum(1 for r in decided if r["status"] == "rejected")
    # Narrowed requests that were later produced still count as narrowed: ask the audit trail.
    narrowed_ids_produced = _narrowed_then_produced(among=None if agency is None else {str(r["pk"]) for r in rows})
    narrowed += narrowed_ids_produced
    type_labels = dict(LegalRequest.Type.choices)
    status_labels = dict(LegalRequest.Status.choices)
    return {
        "total": len(rows),
        "by_type": [(type_labels.get(k, k), by_type.get(k, 0)) for k in LegalRequest.Type.values],
        "by_status": [(status_labels.get(k, k), by_status.get(k, 0)) for k in LegalRequest.Status.values],
        "by_level": sorted(by_level.items()),
        "by_state": sorted(by_state.items(), key=lambda kv: (-kv[1], kv[0]))[:25],
        "median_hours_to_produce": round(statistics.median(hours), 1) if hours else None,
        "produced": len(hours),
        "decided": len(decided),
        "share_narrowed": round(100 * narrowed / len(decided), 1) if decided else 0.0,
        "share_rejected": round(100 * rejected / len(decided), 1) if decided else 0.0,
    }


def _narrowed_then_produced(*, among: set[str] | None = None) -> int:
    narrowed = audit_queries.object_ids(action="legal.request.status", object_type="legal.legalrequest", data_to="narrowed")
    if among is not None:
        narrowed = narrowed & among
    if not narrowed:
        return 0
    still = set(str(i) for i in LegalRequest.objects.unscoped(reason="statistics").filter(status="narrowed").values_list("pk", flat=True))
    return len(narrowed - still)
