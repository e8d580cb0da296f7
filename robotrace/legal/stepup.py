"""Step-up authentication (a fresh login) before downloads and emergency approvals
(security bar S5). Uses the accounts app's helper when it exists, else allauth's
reauthentication, which sends the person to re-enter their password and comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def require_fresh_login(view: Callable[..., Any]) -> Callable[..., Any]:
    try:
        from robotrace.accounts.stepup import require_recent_login  # type: ignore[import-not-found]
    except ImportError:
        require_recent_login = None
    if require_recent_login is not None:
        return require_recent_login(view)  # type: ignore[no-any-return]
    from allauth.account.decorators import reauthentication_required

    return reauthentication_required(view)  # type: ignore[no-any-return]
