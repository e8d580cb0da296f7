"""Demo data for the scorecards app.

Nothing invented: the non-cooperative list fills from the simulated tracebacks. If the
simulator has already produced tracebacks, compute the scorecards and flags now instead of
waiting for the periodic task."""

from __future__ import annotations

from typing import Any

from robotrace.scorecards import criteria
from robotrace.tracebacks.queries import any_hops


def seed(world: Any) -> None:
    if any_hops():
        criteria.refresh()
