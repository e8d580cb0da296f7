"""allauth adapter: our login policy on top of allauth's flow.

The policy lives here rather than in the login form because settings.py (ACCOUNT_FORMS) is
not ours to change, and the adapter is already ours (ACCOUNT_ADAPTER). It enforces:

- the system-use banner (S6): the login POST must carry `acknowledge_banner`;
- locked, pending and rejected accounts never sign in, even with the right password.
  allauth's own backend (second in AUTHENTICATION_BACKENDS) only checks `is_active`, so
  without this check it would let a locked or pending person in after our
  PolicyModelBackend refused them;
- people are told why: locked (an admin must release it) or awaiting verification. Those
  reasons are only given after the right password, or, for lockout, in words that do not
  confirm the address has an account.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from robotrace.audit import services as audit

BANNER_FIELD = "acknowledge_banner"

BANNER_REQUIRED = "Confirm that you have read the system-use notice before signing in."
LOCKED = (
    "This account is locked after repeated failed sign-ins. An administrator must release it: "
    "ask your organisation's admin or the consortium."
)
LOCKED_GENERIC = (
    "Too many failed sign-ins for this e-mail address. If it belongs to an account, that account is now "
    "locked until an administrator releases it."
)
PENDING = (
    "Your access request is awaiting verification by the consortium (a call-back to your agency's main "
    "number). You can sign in once it is approved."
)
REJECTED = "This access request was not approved. Contact the consortium if you believe this is a mistake."


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join through their organisation's admin or the vetted agency request form.
        return False

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        is_login_page = request is not None and request.method == "POST" and request.path == reverse("account_login")
        if is_login_page and request.POST.get(BANNER_FIELD) not in ("on", "1", "true", "yes"):
            # Checked before the password so an unacknowledged attempt is not a failure.
            raise ValidationError(BANNER_REQUIRED, code="banner_not_acknowledged")
        user = super().authenticate(request, **credentials)
        if user is not None:
            reason = self._refusal(user)
            if reason:
                audit.record(
                    action="auth.login_refused",
                    outcome="denied",
                    actor_label=user.email,
                    actor_org=user.organisation,
                    subject_org=user.organisation,
                    obj=user,
                    data={"reason": reason},
                    request=request,
                )
                raise ValidationError(
                    {"locked": LOCKED, "pending": PENDING, "rejected": REJECTED}[reason], code=f"account_{reason}"
                )
        elif is_login_page and self._threshold_reached(credentials.get("email") or credentials.get("username") or ""):
            raise ValidationError(LOCKED_GENERIC, code="account_locked")
        return user

    @staticmethod
    def _refusal(user: Any) -> str:
        from robotrace.accounts.models import User

        if getattr(user, "locked_at", None) is not None:
            return "locked"
        approval = getattr(user, "approval", User.Approval.APPROVED)
        if approval == User.Approval.PENDING:
            return "pending"
        if approval == User.Approval.REJECTED:
            return "rejected"
        return ""

    @staticmethod
    def _threshold_reached(email: str) -> bool:
        from robotrace.accounts.models import LoginFailure

        since = timezone.now() - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
        email = email.strip().lower()
        return bool(email) and LoginFailure.objects.filter(email=email, at__gte=since).count() >= settings.LOCKOUT_FAILURES
