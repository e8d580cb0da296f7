"""Writes for organisations, people and API keys. Each function is one transaction with
its audit event."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from robotrace.accounts.models import US_STATES, ApiKey, LoginFailure, Organisation, User
from robotrace.audit import services as audit
from robotrace.core import phones


class PermissionDenied(Exception):
    pass


def _require_consortium_admin(actor: User | None) -> None:
    if actor is None:
        return  # system work (seeding, management commands)
    org = actor.organisation
    if not (org is not None and org.is_consortium and actor.is_org_admin):
        raise PermissionDenied("only consortium admins may do this")


# Fields that only make sense for one kind of organisation.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Organisation.Kind.CONSORTIUM: (),
    Organisation.Kind.PROVIDER: ("frn", "ocn", "country", "rmd_number", "spc"),
    Organisation.Kind.REPORTER: ("reporter_type",),
    Organisation.Kind.AGENCY: ("agency_level", "jurisdiction", "main_phone"),
}
_COMMON_FIELDS = ("timezone",)


def phone_field(raw: str, *, field: str) -> str:
    """A contact number typed into `field` in E.164 ("" when left blank), or a ValidationError
    naming the field."""
    if not (raw or "").strip():
        return ""
    try:
        return phones.parse(raw)
    except phones.BadNumber as error:
        raise ValidationError({field: str(error)})


def _clean_kind_fields(kind: str, fields: dict[str, object]) -> dict[str, object]:
    allowed = KIND_FIELDS[kind] + _COMMON_FIELDS
    stray = sorted(k for k, v in fields.items() if k not in allowed and v not in ("", None, [], ()))
    if stray:
        unknown = [k for k in stray if not any(k in f for f in KIND_FIELDS.values()) and k not in _COMMON_FIELDS]
        if unknown:
            raise ValidationError({unknown[0]: f"unknown organisation field {unknown[0]!r}"})
        raise ValidationError({stray[0]: f"{stray[0]} does not apply to a {kind} organisation"})
    out = {k: v for k, v in fields.items() if k in allowed}
    errors: dict[str, str] = {}
    if kind == Organisation.Kind.PROVIDER:
        frn = str(out.get("frn") or "").strip()
        if frn and not (frn.isdigit() and len(frn) == 10):
            errors["frn"] = f"FRN must be 10 digits, got {frn!r}"
        country = str(out.get("country") or "US").strip().upper()
        if not (len(country) == 2 and country.isalpha()):
            errors["country"] = f"country must be a two-letter ISO code, got {country!r}"
        out["country"] = country
        out["ocn"] = str(out.get("ocn") or "").strip().upper()
        out["spc"] = str(out.get("spc") or "").strip().upper()
    elif kind == Organisation.Kind.REPORTER:
        if out.get("reporter_type") not in Organisation.ReporterType.values:
            errors["reporter_type"] = f"reporter type must be one of {', '.join(Organisation.ReporterType.values)}"
    elif kind == Organisation.Kind.AGENCY:
        if out.get("agency_level") not in Organisation.AgencyLevel.values:
            errors["agency_level"] = "agency level must be state or federal"
        raw_states = out.get("jurisdiction") or []
        if isinstance(raw_states, str):
            raw_states = [p for p in raw_states.replace(";", ",").replace(" ", ",").split(",") if p]
        states = [str(x).strip().upper() for x in cast(Iterable[object], raw_states)]
        bad = [x for x in states if x not in US_STATES]
        if bad:
            errors["jurisdiction"] = f"not US states or territories: {', '.join(bad)}"
        elif out.get("agency_level") == Organisation.AgencyLevel.STATE and not states:
            errors["jurisdiction"] = "a state agency needs at least one state"
        out["jurisdiction"] = sorted(set(states))
        try:
            out["main_phone"] = phone_field(str(out.get("main_phone") or ""), field="main_phone")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return out


def create_organisation(
    *,
    actor: User | None,
    name: str,
    kind: str,
    slug: str = "",
    status: str = Organisation.Status.ACTIVE,
    **fields: object,
) -> Organisation:
    """Create an organisation of any kind with its kind-specific fields, validated."""
    if kind not in Organisation.Kind.values:
        raise ValidationError({"kind": f"unknown organisation kind {kind!r}; use one of {', '.join(Organisation.Kind.values)}"})
    _require_consortium_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "an organisation needs a name"})
    slug = slug or slugify(name)[:80]
    if not slug:
        raise ValidationError({"name": f"cannot make a short name from {name!r}; give a slug"})
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"an organisation with slug {slug!r} already exists"})
    # People creating organisations by hand are stopped from making look-alike duplicates;
    # system work (simulator, seeders) keeps its own naming and is only held to unique slugs.
    if actor is not None and Organisation.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"an organisation named {name!r} already exists"})
    clean = _clean_kind_fields(kind, dict(fields))
    with transaction.atomic():
        org = Organisation(name=name, slug=slug, kind=kind, status=status, **clean)
        org.full_clean()
        org.save()
        audit.record(
            action="organisation.created",
            actor=actor,
            obj=org,
            subject_org=org,
            data={"kind": kind, "name": name, **{k: v for k, v in clean.items() if v not in ("", [], None)}},
        )
    return org


def create_user(
    *,
    actor: User | None,
    organisation: Organisation,
    email: str,
    password: str | None,
    role: str = User.Role.MEMBER,
    approval: str = User.Approval.APPROVED,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    phone: str = "",
    badge_number: str = "",
    check_password: bool = True,
) -> User:
    """A person in `organisation`, added by a consortium admin, an admin of that organisation,
    or the system (actor None). People an agency's own admin adds wait for the consortium's
    verification, as every agency person does (a call-back to the agency's main number)."""
    from django.core.validators import validate_email

    _require_admin_of(actor, organisation.pk, "only an admin of the organisation, or a consortium admin, may add people to it")
    if actor is not None and organisation.is_agency and not actor.organisation.is_consortium:  # type: ignore[union-attr]  # the actor is an admin of an organisation (checked above)
        approval = User.Approval.PENDING
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"{email!r} is not an e-mail address"})
    if role not in User.Role.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"a user with e-mail {email} already exists"})
    user = User(
        username=email,
        email=email,
        organisation=organisation,
        role=role,
        approval=approval,
        first_name=first_name,
        last_name=last_name,
        title=title,
        phone=phone,
        badge_number=badge_number,
    )
    if password:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages})
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            audit.record(
                action="user.created",
                actor=actor,
                obj=user,
                subject_org=organisation,
                data={"email": email, "role": role, "approval": approval},
            )
    except IntegrityError as exc:
        raise ValidationError({"email": f"a user with e-mail {email} already exists"}) from exc
    return user


def request_agency_access(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    title: str,
    badge_number: str,
    phone: str,
    agency: Organisation | None = None,
    new_agency_name: str = "",
    new_agency_level: str = "",
    new_agency_states: list[str] | None = None,
    new_agency_phone: str = "",
    request: HttpRequest | None = None,
) -> User:
    """A law-enforcement officer asks for access (public form). Creates a pending account,
    and a pending agency when theirs is not on the platform yet; nothing opens until a
    consortium admin verifies the person by calling the agency's main number back."""
    if agency is not None and not agency.is_agency:
        raise ValidationError({"agency": "choose a law-enforcement agency"})
    if agency is None and not new_agency_name.strip():
        raise ValidationError({"agency": "choose your agency, or give the name of a new one"})
    if not first_name.strip() or not last_name.strip():
        raise ValidationError({"first_name": "give your full name"})
    if not title.strip():
        raise ValidationError({"title": "give your title or position"})
    phone = phone_field(phone, field="phone")
    if not phone:
        raise ValidationError({"phone": "give a direct phone number"})
    with transaction.atomic():
        if agency is None:
            agency = create_organisation(
                actor=None,
                name=new_agency_name,
                kind=Organisation.Kind.AGENCY,
                status=Organisation.Status.PENDING,
                agency_level=new_agency_level,
                jurisdiction=new_agency_states or [],
                main_phone=new_agency_phone,
            )
            if not agency.main_phone:
                raise ValidationError({"new_agency_phone": "give the agency's main switchboard number (we call it back)"})
        user = create_user(
            actor=None,
            organisation=agency,
            email=email,
            password=password,
            role=User.Role.MEMBER,
            approval=User.Approval.PENDING,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            title=title.strip(),
            phone=phone,
            badge_number=badge_number.strip(),
        )
        audit.record(
            action="user.access_requested",
            actor_label=user.email,
            obj=user,
            subject_org=agency,
            data={"agency": agency.name, "new_agency": agency.status == Organisation.Status.PENDING, "title": title},
            request=request,
        )
    return user


def approve_user(*, actor: User, user: User, method: str, notes: str) -> User:
    """Approve a pending (agency) account, recording how the requester was verified."""
    _require_consortium_admin(actor)
    if user.approval != User.Approval.PENDING:
        raise ValidationError({"approval": f"{user.email} is not awaiting approval (status: {user.get_approval_display()})"})
    if method not in User.Verification.values:
        raise ValidationError({"verification_method": "choose how the requester was verified"})
    if not notes.strip():
        raise ValidationError({"verification_notes": "say who was called back, on which number, and when"})
    with transaction.atomic():
        user.approval = User.Approval.APPROVED
        user.verification_method = method
        user.verification_notes = notes
        user.verified_by = actor
        user.verified_at = timezone.now()
        user.save()
        org = user.organisation
        if org is not None and org.status == Organisation.Status.PENDING:
            org.status = Organisation.Status.ACTIVE
            org.save(update_fields=["status"])
        audit.record(action="user.approved", actor=actor, obj=user, subject_org=org, data={"method": method})
    return user


def reject_user(*, actor: User, user: User, reason: str) -> User:
    _require_consortium_admin(actor)
    if user.approval != User.Approval.PENDING:
        raise ValidationError({"approval": f"{user.email} is not awaiting approval (status: {user.get_approval_display()})"})
    if not reason.strip():
        raise ValidationError({"reason": "say why the request is rejected (it is kept in the audit trail)"})
    with transaction.atomic():
        user.approval = User.Approval.REJECTED
        user.is_active = False
        user.session_epoch += 1
        user.verification_notes = reason
        user.verified_by = actor
        user.verified_at = timezone.now()
        user.save()
        org = user.organisation
        # A new agency that only this requester asked for goes with the request.
        if org is not None and org.status == Organisation.Status.PENDING and not org.users.exclude(approval=User.Approval.REJECTED).exists():
            org.status = Organisation.Status.SUSPENDED
            org.save(update_fields=["status"])
        audit.record(action="user.rejected", actor=actor, obj=user, subject_org=org, data={"reason": reason})
    return user


def set_role(*, actor: User, user: User, role: str) -> User:
    if role not in User.Role.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    _require_admin_over(actor, user, "change roles")
    if actor.pk == user.pk and role != User.Role.ADMIN:
        raise ValidationError({"role": "you cannot remove your own admin role; ask another admin"})
    with transaction.atomic():
        old = user.role
        user.role = role
        user.session_epoch += 1  # role changes end existing sessions
        user.save(update_fields=["role", "session_epoch"])
        audit.record(action="user.role_changed", actor=actor, obj=user, subject_org=user.organisation, data={"from": old, "to": role})
    return user


def _require_admin_over(actor: User | None, user: User, what: str) -> None:
    """An admin of the user's own organisation, or a consortium admin, may manage them."""
    _require_admin_of(actor, user.organisation_id, f"only an admin of the user's organisation may {what}")


def _require_admin_of(actor: User | None, organisation_id: int | None, refusal: str) -> None:
    """An admin of that organisation, a consortium admin, or the system (actor None)."""
    if actor is None:
        return
    org = actor.organisation
    if not (actor.is_org_admin and org is not None and (org.is_consortium or actor.organisation_id == organisation_id)):
        raise PermissionDenied(refusal)


def end_sessions(*, actor: User | None, user: User) -> None:
    _require_admin_over(actor, user, "end sessions")
    with transaction.atomic():
        user.session_epoch += 1
        user.save(update_fields=["session_epoch"])
        audit.record(action="user.sessions_ended", actor=actor, obj=user, subject_org=user.organisation)


def set_active(*, actor: User, user: User, active: bool) -> User:
    _require_admin_over(actor, user, "disable or enable accounts")
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationError({"is_active": "you cannot disable your own account"})
    with transaction.atomic():
        user.is_active = active
        user.session_epoch += 1
        user.save(update_fields=["is_active", "session_epoch"])
        audit.record(action="user.enabled" if active else "user.disabled", actor=actor, obj=user, subject_org=user.organisation)
    return user


# --- lockout ---------------------------------------------------------------------------------


def register_login_failure(*, email: str, request: HttpRequest | None, step: str = "password") -> bool:
    """Count a failed login; lock the account at the threshold. Returns True if now locked.

    A wrong second-factor code (`step="second_factor"`) counts the same as a wrong password:
    a six-digit code is guessable if failures cost nothing, and the person behind it already
    knows the password."""
    email = (email or "").strip().lower()[:254]
    now = timezone.now()
    window_start = now - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
    with transaction.atomic():
        LoginFailure.objects.create(email=email, at=now, source_ip=audit.client_ip(request))
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        audit.record(
            action="auth.login_failed" if step == "password" else "auth.second_factor_failed",
            outcome="failure",
            actor_label=email or "(blank)",
            actor_org=user.organisation if user else None,
            subject_org=user.organisation if user else None,
            request=request,
        )
        if user is None or user.is_locked:
            return bool(user and user.is_locked)
        recent = LoginFailure.objects.filter(email=email, at__gte=window_start).count()
        if recent >= settings.LOCKOUT_FAILURES:
            user.locked_at = now
            user.locked_reason = f"{recent} failed logins within {settings.LOCKOUT_WINDOW_SECONDS // 60} minutes"
            user.session_epoch += 1
            user.save(update_fields=["locked_at", "locked_reason", "session_epoch"])
            audit.record(action="user.locked", outcome="failure", obj=user, subject_org=user.organisation, data={"failures": recent}, request=request)
            return True
    return False


def unlock_user(*, actor: User | None, user: User) -> User:
    _require_admin_over(actor, user, "release a locked account")
    with transaction.atomic():
        user.locked_at = None
        user.locked_reason = ""
        user.save(update_fields=["locked_at", "locked_reason"])
        LoginFailure.objects.filter(email=user.email).delete()
        audit.record(action="user.unlocked", actor=actor, obj=user, subject_org=user.organisation, data={"was": user.email})
    return user


# --- API keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scope_hint(scopes: list[str]) -> str:
    first = scopes[0] if scopes else "key"
    return first.split(":")[0][:9]


def issue_api_key(*, actor: User | None, organisation: Organisation, name: str, scopes: list[str]) -> IssuedKey:
    unknown = [s for s in scopes if s not in ApiKey.Scope.values]
    if unknown or not scopes:
        raise ValidationError({"scopes": f"unknown or missing scopes: {', '.join(unknown) or '(none given)'}"})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "give the key a name that says which system uses it"})
    if actor is not None:
        if actor.organisation_id != organisation.id and not (actor.organisation and actor.organisation.is_consortium):
            raise PermissionDenied("keys can only be issued for your own organisation")
        if not actor.is_org_admin:
            raise PermissionDenied("only admins may issue API keys")
    random_part = secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")
    secret = f"{settings.API_KEY_PREFIX}_{_scope_hint(scopes)}_{random_part}"
    prefix = secret[: len(secret) - len(random_part) + 10]
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation, name=name, prefix=prefix, key_hash=hash_key(secret), scopes=scopes, created_by=actor
        )
        audit.record(action="api_key.issued", actor=actor, obj=key, subject_org=organisation, data={"name": name, "scopes": scopes, "prefix": prefix})
    return IssuedKey(api_key=key, secret=secret)


def revoke_api_key(*, actor: User, organisation: Organisation, key_id: int) -> ApiKey:
    if actor.organisation_id != organisation.id and not (actor.organisation and actor.organisation.is_consortium):
        # Another organisation's key: answer as if it did not exist.
        raise ApiKey.DoesNotExist("no such key")
    key = ApiKey.objects.for_org(organisation).get(id=key_id, organisation=organisation)
    if not actor.is_org_admin:
        raise PermissionDenied("only admins may revoke API keys")
    if key.revoked_at is not None:
        return key
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(action="api_key.revoked", actor=actor, obj=key, subject_org=key.organisation)
    return key


def authenticate_api_key(secret: str) -> ApiKey | None:
    """Find an active key by prefix, then compare hashes in constant time."""
    import hmac

    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != settings.API_KEY_PREFIX or len(parts[2]) < 10:
        return None
    prefix = f"{parts[0]}_{parts[1]}_{parts[2][:10]}"
    key = ApiKey.objects.unscoped(reason="API key lookup by prefix").select_related("organisation").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(secret)):
        return None
    if key.revoked_at is not None or key.organisation.status != Organisation.Status.ACTIVE:
        return None
    now = timezone.now()
    # Write last-used at most once a minute: the ingest hot path must not update per request.
    if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=60):
        ApiKey.objects.unscoped(reason="touch last_used_at").filter(id=key.id).update(last_used_at=now)
        key.last_used_at = now
    return key


def disable_idle_accounts(*, idle_days: int = 90, now: datetime | None = None) -> int:
    """Disable people who have not signed in for `idle_days` (CJIS AC-2(3), design Z2).

    Run daily by a Huey periodic task, so an idle account is disabled within a day, well
    inside the one week the policy allows. Each account is claimed with a conditional
    UPDATE, so two workers never disable (and audit) the same person twice.
    """
    from django.db.models import Q

    now = now or timezone.now()
    cutoff = now - timedelta(days=idle_days)
    idle = User.objects.filter(is_active=True, approval=User.Approval.APPROVED, organisation__isnull=False).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    done = 0
    for user_id in list(idle.values_list("id", flat=True)[:1000]):
        with transaction.atomic():
            claimed = User.objects.filter(id=user_id, is_active=True).update(is_active=False, session_epoch=models.F("session_epoch") + 1)
            if not claimed:
                continue
            user = User.objects.select_related("organisation").get(id=user_id)
            audit.record(
                action="user.disabled_idle",
                obj=user,
                subject_org=user.organisation,
                data={"idle_days": idle_days, "last_login": user.last_login.isoformat() if user.last_login else None},
            )
            done += 1
    return done
