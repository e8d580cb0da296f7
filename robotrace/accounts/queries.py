"""Reads for the accounts app (admin overview, approval queue, key lists)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from robotrace.accounts.models import ApiKey, Organisation, User
from robotrace.audit import queries as audit_queries


def organisation_of(request: HttpRequest) -> Organisation:
    """The organisation of the person signed in. Pages behind core.access.require_kind and
    home panels always have one; any other request is refused."""
    user = request.user
    org = user.organisation if isinstance(user, User) else None
    if org is None:
        raise PermissionDenied("no organisation")
    return org


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

    from django.utils import timezone

    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    counts = audit_queries.daily_counts(actions=("auth.login", "auth.login_failed"), since=start)
    labels = [start + timedelta(days=i) for i in range(days)]
    return {
        "labels": [d.strftime("%b %d") for d in labels],
        "ok": [counts.get((d, "auth.login"), 0) for d in labels],
        "failed": [counts.get((d, "auth.login_failed"), 0) for d in labels],
    }


def member_emails(organisation_id: int, *, admins_only: bool = False, signing_in: bool = False) -> list[str]:
    """E-mail addresses of the organisation's active people: its admins only if asked;
    `signing_in`: only people approved and not locked out, with an address."""
    qs = User.objects.filter(organisation_id=organisation_id, is_active=True)
    if admins_only:
        qs = qs.filter(role=User.Role.ADMIN)
    if signing_in:
        qs = qs.filter(approval=User.Approval.APPROVED, locked_at__isnull=True).exclude(email="")
    return list(qs.values_list("email", flat=True))


def admin_emails_of_kind(kind: str) -> list[str]:
    """E-mail addresses of the active admins of every organisation of a kind (the consortium's)."""
    users = User.objects.filter(organisation__kind=kind, role=User.Role.ADMIN, is_active=True)
    return list(users.values_list("email", flat=True))


# --- Identity for the other apps: organisations and people are passed around as the models
# themselves (every service takes an actor and an organisation), so these return them.


def organisation(pk: int, *, kind: str = "") -> Organisation | None:
    qs = Organisation.objects.filter(pk=pk)
    return (qs.filter(kind=kind) if kind else qs).first()


def organisation_by_slug(slug: str) -> Organisation | None:
    return Organisation.objects.filter(slug=slug).first()


def organisation_by_ref(ref: str) -> Organisation | None:
    """By slug, or by id when `ref` is a number."""
    return Organisation.objects.filter(slug=ref).first() or (Organisation.objects.filter(pk=int(ref)).first() if ref.isdigit() else None)


def organisations_of_kind(kind: str, *, active_only: bool = False) -> QuerySet[Organisation]:
    qs = Organisation.objects.filter(kind=kind)
    return (qs.filter(status=Organisation.Status.ACTIVE) if active_only else qs).order_by("name")


def organisations_except(kind: str) -> QuerySet[Organisation]:
    return Organisation.objects.exclude(kind=kind).order_by("name")


def consortium() -> Organisation | None:
    """The consortium (the first one, should there be several)."""
    return Organisation.objects.filter(kind=Organisation.Kind.CONSORTIUM).order_by("id").first()


def staff(org: Organisation) -> QuerySet[User]:
    """The organisation's active people who may change things."""
    return User.objects.filter(organisation=org, is_active=True).exclude(role=User.Role.READ_ONLY).order_by("email")


def member(org: Organisation, pk: int) -> User | None:
    return User.objects.filter(pk=pk, organisation=org).first()


AGENCY_LEVEL_LABELS = dict(Organisation.AgencyLevel.choices)


def any_organisation() -> bool:
    return Organisation.objects.exists()


# Vocabularies of people, for apps that set or compare them.
Approval = User.Approval
Verification = User.Verification
