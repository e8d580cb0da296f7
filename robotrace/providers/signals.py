"""Every provider organisation has a registry record, created or matched when the
organisation is created (the registry is where hops, scorecards and flags point); and the
signal apps above the registry hear a merge by."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Sent inside merge_providers' transaction, before every reference to the source record
# moves to the target: keyword arguments source_id and target_id. A receiver that keeps one
# row per provider (scorecards, flags) drops the source's rows that would collide.
provider_merging = Signal()


def organisation_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not created or getattr(instance, "kind", None) != "provider":
        return
    from robotrace.providers.services import link_organisation

    link_organisation(actor=None, organisation=instance)
