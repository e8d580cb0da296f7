"""Every provider organisation has a registry record, created or matched when the
organisation is created (the registry is where hops, scorecards and flags point)."""

from __future__ import annotations

from typing import Any


def organisation_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not created or getattr(instance, "kind", None) != "provider":
        return
    from robotrace.providers.services import link_organisation

    link_organisation(actor=None, organisation=instance)
