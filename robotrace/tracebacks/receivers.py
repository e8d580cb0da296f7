"""Signal receivers (campaign events reach `automation` through its core.events subscriber)."""

from __future__ import annotations

from typing import Any


def forget_contacts(sender: Any, **kwargs: Any) -> None:
    """A user or organisation changed: drop the cached hop-notification contacts."""
    from robotrace.tracebacks import notifications

    notifications.forget_contacts()
