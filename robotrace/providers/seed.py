"""Demo data for the providers app.

Nothing invented: provider organisations already have registry records (signals.py); this
links any made before the providers app was listening."""

from __future__ import annotations

from typing import Any

from robotrace.accounts.queries import organisations
from robotrace.providers.services import link_organisation


def seed(world: Any) -> None:
    for org in organisations(kind="provider"):
        link_organisation(actor=None, organisation=org)
