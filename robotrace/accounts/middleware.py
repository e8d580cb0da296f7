"""Session policy (idle 30 min, absolute 12 h, server-side revocation) and MFA enforcement."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from robotrace.audit import services as audit

if TYPE_CHECKING:
    from robotrace.accounts.models import User

SESSION_AUTH_AT = "rt_auth_at"
SESSION_LAST_SEEN = "rt_last_seen"
SESSION_EPOCH = "rt_epoch"
# How this session's sign-in stood with the second factor, set by the `user_logged_in`
# receiver whatever the login path was (allauth's form, Django's admin form, a test client):
# "passed" (a code or key was checked, or the person enrolled one in this session), "none"
# (the person had no authenticator at sign-in) or "missing" (they have one and it was not
# asked). A session without the key predates this check and is ended like "missing".
SESSION_SECOND_FACTOR = "rt_2fa"
SECOND_FACTOR_PASSED = "passed"
SECOND_FACTOR_NONE = "none"

# Paths a signed-in person may reach before enrolling a second factor or being approved.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/favicon.ico", "/healthz", "/api/", "/csp-report")

# Why a session was ended, shown on the login page. The middleware runs before Django's
# MessageMiddleware, so it cannot use `messages`; it passes one of these codes instead
# (a code, never free text, so the login page cannot be made to display arbitrary words).
END_REASONS = {
    "unverified": "Your session could not be verified. Please sign in again.",
    "idle": "You were signed out after 30 minutes without activity.",
    "expired": "Sessions last at most 12 hours. Please sign in again.",
    "revoked": "Your session was ended by an administrator.",
    "admin_mfa": "The administration site needs your second factor: sign in here with your authenticator code.",
    "second_factor": "Your account has a second factor and this sign-in did not ask for it: sign in here with your authenticator code.",
}

# Django's admin site has its own password-only login form. Its sessions are held to the
# same rule as every other (below); the prefix only picks the words shown at the login page.
ADMIN_SITE_PREFIX = "/django-admin/"
# Where a session that did not pass the second factor may still go: signing in again.
_SECOND_FACTOR_OPEN = ("/accounts/login/", "/accounts/logout/", "/django-admin/login/", "/django-admin/logout/", "/static/", "/favicon.ico")


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
                audit.record(action="auth.session_ended", actor=user, subject_org=user.organisation, data={"reason": reason}, request=request)
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                query = urlencode({"next": request.get_full_path(), "ended": reason})
                return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
            # Only write the session when the minute changes, so every request is not a write.
            assert last_seen is not None  # a session without it ended above ("unverified")
            if now - last_seen > 60:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class MfaRequiredMiddleware:
    """Every sign-in of a person who has a second factor must have passed it.

    The rule is held per session, not per login URL: the `user_logged_in` receiver records
    whether the sign-in checked a code (`SESSION_SECOND_FACTOR`), so a password-only path
    (Django's admin login form, or any added later) yields a session that is ended here on
    its first request, API included. Consortium and agency people, and staff, who have no
    authenticator yet reach nothing beyond enrolment.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        path = request.path
        state = request.session.get(SESSION_SECOND_FACTOR)
        if state == SECOND_FACTOR_PASSED:
            return self.get_response(request)
        if state != SECOND_FACTOR_NONE:
            if path.startswith(_SECOND_FACTOR_OPEN):
                return self.get_response(request)
            ended = _end_session(request, user, "admin_mfa" if path.startswith(ADMIN_SITE_PREFIX) else "second_factor")
            return ended or self.get_response(request)
        needs = getattr(user, "needs_mfa", False) or user.is_staff or user.is_superuser
        if needs and (not path.startswith(_OPEN_PREFIXES) or path.startswith(ADMIN_SITE_PREFIX)):
            if not is_mfa_enabled(user):
                messages.info(request, "Set up an authenticator app before you continue: it is required for your organisation.")
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def _end_session(request: HttpRequest, user: User, reason: str) -> HttpResponse | None:
    """Sign out and send a page to the login form; an API request (None) goes on anonymous."""
    audit.record(action="auth.session_ended", actor=user, data={"reason": reason}, request=request)
    logout(request)
    if request.path.startswith("/api/"):
        return None
    query = urlencode({"next": request.get_full_path(), "ended": reason})
    return HttpResponseRedirect(f"{reverse('account_login')}?{query}")


def second_factor_state(request: HttpRequest, user: object) -> str:
    """What `SESSION_SECOND_FACTOR` a sign-in of `user` on `request` earns."""
    if any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        return SECOND_FACTOR_PASSED
    return "missing" if is_mfa_enabled(user) else SECOND_FACTOR_NONE
