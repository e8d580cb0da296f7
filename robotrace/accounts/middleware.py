"""Session policy (idle 30 min, absolute 12 h, server-side revocation) and MFA enforcement."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

SESSION_AUTH_AT = "rt_auth_at"
SESSION_LAST_SEEN = "rt_last_seen"
SESSION_EPOCH = "rt_epoch"

# Paths a signed-in person may reach before enrolling a second factor or being approved.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/favicon.ico", "/healthz", "/api/")

# Why a session was ended, shown on the login page. The middleware runs before Django's
# MessageMiddleware, so it cannot use `messages`; it passes one of these codes instead
# (a code, never free text, so the login page cannot be made to display arbitrary words).
END_REASONS = {
    "unverified": "Your session could not be verified. Please sign in again.",
    "idle": "You were signed out after 30 minutes without activity.",
    "expired": "Sessions last at most 12 hours. Please sign in again.",
    "revoked": "Your session was ended by an administrator.",
    "admin_mfa": "The administration site needs your second factor: sign in here with your authenticator code.",
}

# Django's admin site has its own password-only login form; it is only reachable in a
# session that passed allauth's second-factor step.
ADMIN_SITE_PREFIX = "/django-admin/"
_ADMIN_SITE_OPEN = ("/django-admin/login/", "/django-admin/logout/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            session = request.session
            auth_at = session.get(SESSION_AUTH_AT)
            last_seen = session.get(SESSION_LAST_SEEN)
            reason = ""
            if auth_at is None or last_seen is None:
                reason = "unverified"
            elif now - last_seen > settings.SESSION_IDLE_SECONDS:
                reason = "idle"
            elif now - auth_at > settings.SESSION_ABSOLUTE_SECONDS:
                reason = "expired"
            elif (
                session.get(SESSION_EPOCH) != user.session_epoch
                or not user.is_active
                or user.is_locked
                or getattr(user, "approval", "approved") != "approved"
            ):
                reason = "revoked"
            if reason:
                from robotrace.audit import services as audit

                audit.record(action="auth.session_ended", actor=user, subject_org=user.organisation, data={"reason": reason}, request=request)
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                query = urlencode({"next": request.get_full_path(), "ended": reason})
                return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
            # Only write the session when the minute changes, so every request is not a write.
            if now - last_seen > 60:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class MfaRequiredMiddleware:
    """Consortium and agency users reach nothing beyond enrolment without a second factor.

    Staff (Django admin site) need one too, and the admin site is only reachable in a
    session that went through the second-factor step, because its own login form asks for
    a password alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        path = request.path
        admin_site = path.startswith(ADMIN_SITE_PREFIX) and not path.startswith(_ADMIN_SITE_OPEN)
        needs = getattr(user, "needs_mfa", False) or user.is_staff or user.is_superuser
        if (needs and not path.startswith(_OPEN_PREFIXES)) or admin_site:
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(user):
                messages.info(request, "Set up an authenticator app before you continue: it is required for your organisation.")
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
            if admin_site and not _passed_second_factor(request, user):
                from robotrace.audit import services as audit

                audit.record(action="auth.session_ended", actor=user, data={"reason": "admin_mfa"}, request=request)
                logout(request)
                query = urlencode({"next": request.get_full_path(), "ended": "admin_mfa"})
                return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
        return self.get_response(request)


def _passed_second_factor(request: HttpRequest, user: object) -> bool:
    from allauth.account.internal.flows.login import get_authentication_records

    return any(r.get("method") == "mfa" for r in get_authentication_records(request, user))  # type: ignore[arg-type]
