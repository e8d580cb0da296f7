"""Demo data for the providers app.

Nothing invented: provider organisations already have registry records (signals.py), and
the non-cooperative list fills from the simulated tracebacks. If the simulator has already
produced tracebacks, compute the scorecards and flags now instead of waiting for the
periodic task."""

from __future__ import annotations

from typing import Any


def seed(world: Any) -> None:
    from robotrace.accounts.models import Organisation
    from robotrace.providers.services import link_organisation
    from robotrace.tracebacks.models import Hop

    for org in Organisation.objects.filter(kind=Organisation.Kind.PROVIDER):
        link_organisation(actor=None, organisation=org)
    if Hop.objects.unscoped(reason="demo seeding: is there anything to score?").exists():
        from robotrace.providers import criteria

        criteria.refresh()
