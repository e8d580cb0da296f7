"""View decorators for organisation kinds and roles; refusals are audited."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from robotrace.core.signals import access_denied


def deny(request: HttpRequest, reason: str) -> None:
    """Announce a refusal (the audit app records it) and raise 403."""
    access_denied.send(sender=deny, request=request, reason=reason)
    raise PermissionDenied(reason)


def require_kind(*kinds: str, admin: bool = False, write: bool = False) -> Callable[..., Any]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            org = getattr(user, "organisation", None)
            if org is None or (kinds and org.kind not in kinds):
                deny(request, "this page is not for your organisation")
            if admin and not user.is_org_admin:  # type: ignore[union-attr]  # login_required above: a signed-in User
                deny(request, "this page is for organisation admins")
            if write and request.method not in ("GET", "HEAD", "OPTIONS") and not user.can_write:  # type: ignore[union-attr]  # login_required above: a signed-in User
                deny(request, "read-only users cannot change anything")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
