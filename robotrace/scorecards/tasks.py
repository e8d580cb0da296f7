"""Thin Huey entry points for the scorecards app."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from robotrace.scorecards.conf import scorecard_interval_minutes


def _refresh() -> dict[str, Any]:
    from robotrace.scorecards import criteria

    # One at a time: two overlapping swaps would be correct but wasteful.
    with lock_task("providers-refresh"):
        cards, flags = criteria.refresh()
    return {"scorecard_rows": cards.rows, "active_flags": flags.active, "newly_flagged": flags.newly_flagged}


@db_periodic_task(crontab(minute=f"*/{scorecard_interval_minutes()}"))
def refresh_scorecards_and_flags() -> dict[str, Any]:
    """Scorecards and the non-cooperative list follow the tracebacks within minutes."""
    return _refresh()


@db_task()
def refresh_now() -> dict[str, Any]:
    """On demand, from the consortium's "Recompute now" button."""
    return _refresh()
