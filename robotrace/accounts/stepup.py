"""Step-up re-authentication (security-and-portals.md S5) for sensitive actions.

`require_recent_login` wraps allauth's `reauthentication_required`: unless the person
proved who they are within `ACCOUNT_REAUTHENTICATION_TIMEOUT` seconds (a fresh login or a
re-authentication with password or authenticator code), the request is suspended, the
person confirms their identity, and the original request (a POST too) is resumed.

Use it below the access check so a refused person is told so rather than asked to
re-authenticate first:

    @require_kind("agency")
    @require_recent_login
    def download(request, pk): ...

Pass `allow_get=True` to let GET through (a confirmation page) and guard only the POST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from django.http import HttpRequest

V = TypeVar("V", bound=Callable[..., Any])


@overload
def require_recent_login(view: V) -> V: ...


@overload
def require_recent_login(view: None = None, *, allow_get: bool = False) -> Callable[[V], V]: ...


def require_recent_login(view: Any = None, *, allow_get: bool = False) -> Any:
    """Decorator: the person must have authenticated within the re-authentication window."""

    def decorator(fn: V) -> V:
        return reauthentication_required(fn, allow_get=allow_get)

    if view is not None:
        return decorator(view)
    return decorator


def recently_authenticated(request: HttpRequest) -> bool:
    """True when a step-up is not needed right now (for showing hints on pages)."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and did_recently_reauthenticate(request))
