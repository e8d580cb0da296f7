from __future__ import annotations

from typing import Any

from allauth.mfa.signals import authentication_failed, authenticator_added
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from robotrace.accounts import services
from robotrace.accounts.middleware import (
    SECOND_FACTOR_PASSED,
    SESSION_AUTH_AT,
    SESSION_EPOCH,
    SESSION_LAST_SEEN,
    SESSION_SECOND_FACTOR,
    second_factor_state,
)
from robotrace.audit import services as audit


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    email = credentials.get("email") or credentials.get("username") or ""
    services.register_login_failure(email=email, request=request)


@receiver(authentication_failed)
def on_second_factor_failed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.register_login_failure(email=user.email, request=request, step="second_factor")


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    now = timezone.now().timestamp()
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_LAST_SEEN] = now
        request.session[SESSION_EPOCH] = user.session_epoch
        request.session[SESSION_SECOND_FACTOR] = second_factor_state(request, user)
        # A sign-in that just happened is as fresh as a re-authentication: without this the
        # first thing a new agency user sees after typing their password (authenticator
        # enrolment) would ask for the password again. Step-up still applies once
        # ACCOUNT_REAUTHENTICATION_TIMEOUT has passed.
        from allauth.account.internal.flows.login import record_authentication

        record_authentication(request, user, method="login", reauthenticated=True)
    # Lockout counts consecutive failures (CJIS AC-7): a successful sign-in clears them.
    from robotrace.accounts.models import LoginFailure

    LoginFailure.objects.filter(email=(user.email or "").lower()).delete()
    audit.record(action="auth.login", actor=user, subject_org=user.organisation, request=request)


@receiver(user_logged_out)
def on_logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(action="auth.logout", actor=user, subject_org=user.organisation, request=request)


@receiver(authenticator_added)
def on_authenticator_added(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Enrolling checks a code from the new authenticator, so the session that did it has
    # shown the second factor (the enrolment page is where a person without one is sent).
    if request is not None and hasattr(request, "session") and request.user.is_authenticated and request.user.pk == user.pk:
        request.session[SESSION_SECOND_FACTOR] = SECOND_FACTOR_PASSED
