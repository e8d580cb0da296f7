from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from robotrace.accounts import services
from robotrace.accounts.middleware import SESSION_AUTH_AT, SESSION_EPOCH, SESSION_LAST_SEEN
from robotrace.audit import services as audit


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    email = credentials.get("email") or credentials.get("username") or ""
    services.register_login_failure(email=email, request=request)


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    now = timezone.now().timestamp()
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_LAST_SEEN] = now
        request.session[SESSION_EPOCH] = user.session_epoch
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
