"""Reads for the accounts app (admin overview, approval queue, key lists)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from robotrace.accounts.models import ApiKey, Organisation, User


def overview() -> dict[str, Any]:
    """Counts for the consortium admin home."""
    by_kind = {row["kind"]: row["n"] for row in Organisation.objects.order_by().values("kind").annotate(n=Count("id"))}
    users = User.objects.filter(organisation__isnull=False).aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True, approval=User.Approval.APPROVED)),
        pending=Count("id", filter=Q(approval=User.Approval.PENDING)),
        locked=Count("id", filter=Q(locked_at__isnull=False)),
        disabled=Count("id", filter=Q(is_active=False)),
    )
    keys = ApiKey.objects.unscoped(reason="consortium admin overview counts").aggregate(
        active=Count("id", filter=Q(revoked_at__isnull=True)), total=Count("id")
    )
    return {
        "orgs_by_kind": [(label, by_kind.get(value, 0)) for value, label in Organisation.Kind.choices],
        "orgs_total": sum(by_kind.values()),
        "users": users,
        "keys": keys,
    }


def pending_approvals() -> QuerySet[User]:
    return User.objects.filter(approval=User.Approval.PENDING).select_related("organisation").order_by("date_joined")


def locked_users() -> QuerySet[User]:
    return User.objects.filter(locked_at__isnull=False).select_related("organisation").order_by("-locked_at")


def organisations(*, kind: str = "", q: str = "") -> QuerySet[Organisation]:
    qs = Organisation.objects.annotate(
        n_users=Count("users", distinct=True),
        n_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True), distinct=True),
    ).order_by("kind", "name")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(slug__icontains=q) | Q(ocn__iexact=q) | Q(frn=q))
    return qs


def org_keys(org: Organisation) -> QuerySet[ApiKey]:
    """`org`'s own keys (never another organisation's, even for the consortium)."""
    return ApiKey.objects.for_org(org).filter(organisation=org).select_related("created_by").order_by("revoked_at", "-created_at")


def agencies_for_request() -> QuerySet[Organisation]:
    """Agencies a requester may pick on the public form (active ones only)."""
    return Organisation.objects.filter(kind=Organisation.Kind.AGENCY, status=Organisation.Status.ACTIVE).order_by("name")


def signins_by_day(days: int = 14) -> dict[str, list[Any]]:
    """Successful and failed sign-ins per day (from the audit trail), for the admin chart."""
    from datetime import timedelta

    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from robotrace.audit.models import AuditEvent

    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        AuditEvent.objects.filter(action__in=("auth.login", "auth.login_failed"), at__date__gte=start)
        .annotate(day=TruncDate("at"))
        .values("day", "action")
        .annotate(n=Count("id"))
    )
    counts = {(r["day"], r["action"]): r["n"] for r in rows}
    labels = [start + timedelta(days=i) for i in range(days)]
    return {
        "labels": [d.strftime("%b %d") for d in labels],
        "ok": [counts.get((d, "auth.login"), 0) for d in labels],
        "failed": [counts.get((d, "auth.login_failed"), 0) for d in labels],
    }


def member_emails(organisation_id: int, *, admins_only: bool = False) -> list[str]:
    """E-mail addresses of the organisation's active people (its admins only if asked)."""
    qs = User.objects.filter(organisation_id=organisation_id, is_active=True)
    if admins_only:
        qs = qs.filter(role=User.Role.ADMIN)
    return list(qs.values_list("email", flat=True))
