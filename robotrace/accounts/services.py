"""Writes for organisations, people and API keys. Each function is one transaction with
its audit event."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from robotrace.accounts.models import ApiKey, LoginFailure, Organisation, User
from robotrace.audit import services as audit


class PermissionDenied(Exception):
    pass


def _require_consortium_admin(actor: User | None) -> None:
    if actor is None:
        return  # system work (seeding, management commands)
    org = actor.organisation
    if not (org is not None and org.is_consortium and actor.is_org_admin):
        raise PermissionDenied("only consortium admins may do this")


def create_organisation(
    *,
    actor: User | None,
    name: str,
    kind: str,
    slug: str = "",
    status: str = Organisation.Status.ACTIVE,
    **fields: object,
) -> Organisation:
    if kind not in Organisation.Kind.values:
        raise ValidationError({"kind": f"unknown organisation kind {kind!r}; use one of {', '.join(Organisation.Kind.values)}"})
    _require_consortium_admin(actor)
    slug = slug or slugify(name)[:80]
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"an organisation with slug {slug!r} already exists"})
    if kind == Organisation.Kind.AGENCY:
        bad = [s for s in fields.get("jurisdiction", []) or [] if s not in _states()]  # type: ignore[union-attr]
        if bad:
            raise ValidationError({"jurisdiction": f"not US states or territories: {', '.join(map(str, bad))}"})
    with transaction.atomic():
        org = Organisation(name=name, slug=slug, kind=kind, status=status, **fields)
        org.full_clean()
        org.save()
        audit.record(action="organisation.created", actor=actor, obj=org, subject_org=org, data={"kind": kind, "name": name})
    return org


def _states() -> set[str]:
    from robotrace.accounts.models import US_STATES

    return set(US_STATES)


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
    check_password: bool = True,
) -> User:
    email = email.strip().lower()
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
    )
    if password:
        if check_password:
            validate_password(password, user)
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


def approve_user(*, actor: User, user: User, method: str, notes: str) -> User:
    """Approve a pending (agency) account, recording how the requester was verified."""
    _require_consortium_admin(actor)
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
    with transaction.atomic():
        user.approval = User.Approval.REJECTED
        user.is_active = False
        user.session_epoch += 1
        user.save()
        audit.record(action="user.rejected", actor=actor, obj=user, subject_org=user.organisation, data={"reason": reason})
    return user


def set_role(*, actor: User, user: User, role: str) -> User:
    if role not in User.Role.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    if not (actor.is_org_admin and (actor.organisation_id == user.organisation_id or actor.organisation.is_consortium)):  # type: ignore[union-attr]
        raise PermissionDenied("only an admin of the user's organisation may change roles")
    with transaction.atomic():
        old = user.role
        user.role = role
        user.session_epoch += 1  # role changes end existing sessions
        user.save(update_fields=["role", "session_epoch"])
        audit.record(action="user.role_changed", actor=actor, obj=user, subject_org=user.organisation, data={"from": old, "to": role})
    return user


def end_sessions(*, actor: User | None, user: User) -> None:
    with transaction.atomic():
        user.session_epoch += 1
        user.save(update_fields=["session_epoch"])
        audit.record(action="user.sessions_ended", actor=actor, obj=user, subject_org=user.organisation)


def set_active(*, actor: User, user: User, active: bool) -> User:
    _require_consortium_admin(actor)
    with transaction.atomic():
        user.is_active = active
        user.session_epoch += 1
        user.save(update_fields=["is_active", "session_epoch"])
        audit.record(action="user.enabled" if active else "user.disabled", actor=actor, obj=user, subject_org=user.organisation)
    return user


# --- lockout ---------------------------------------------------------------------------------


def register_login_failure(*, email: str, request: HttpRequest | None) -> bool:
    """Count a failed login; lock the account at the threshold. Returns True if now locked."""
    email = (email or "").strip().lower()[:254]
    now = timezone.now()
    window_start = now - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
    with transaction.atomic():
        LoginFailure.objects.create(email=email, at=now, source_ip=audit.client_ip(request))
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        audit.record(
            action="auth.login_failed",
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


def unlock_user(*, actor: User, user: User) -> User:
    if not (actor.is_org_admin and actor.organisation is not None and (actor.organisation.is_consortium or actor.organisation_id == user.organisation_id)):
        raise PermissionDenied("only an admin may release a locked account")
    with transaction.atomic():
        user.locked_at = None
        user.locked_reason = ""
        user.save(update_fields=["locked_at", "locked_reason"])
        LoginFailure.objects.filter(email=user.email).delete()
        audit.record(action="user.unlocked", actor=actor, obj=user, subject_org=user.organisation)
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
    key = ApiKey.objects.for_org(organisation).get(id=key_id)
    if not actor.is_org_admin:
        raise PermissionDenied("only admins may revoke API keys")
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
