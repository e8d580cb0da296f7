"""Thin Huey entry points for the scorecards app."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from robotrace.core.events import Subscriber
from robotrace.scorecards.conf import scorecard_interval_minutes
from robotrace.tracebacks import events as traceback_events

# Hops answered and tracebacks completed make the scorecards stale: a batch subscriber, so the
# events cost one query a minute and one UPDATE per refresh, never a task per hop.
TRACEBACK_EVENTS = Subscriber(traceback_events.STREAM, "scorecards")


def _refresh() -> dict[str, Any]:
    from robotrace.scorecards import criteria

    # Events up to here are covered by this refresh; later ones wait for the next.
    newest = TRACEBACK_EVENTS.newest_unhandled()
    # One at a time: two overlapping swaps would be correct but wasteful.
    with lock_task("providers-refresh"):
        cards, flags = criteria.refresh()
    if newest is not None:
        TRACEBACK_EVENTS.claim_all(through_id=newest)
    return {"scorecard_rows": cards.rows, "active_flags": flags.active, "newly_flagged": flags.newly_flagged}


@db_periodic_task(crontab(minute=f"*/{scorecard_interval_minutes()}"))
def refresh_scorecards_and_flags() -> dict[str, Any]:
    """Scorecards and the non-cooperative list follow the tracebacks within minutes."""
    return _refresh()


@db_periodic_task(crontab(minute="*"))
def refresh_on_traceback_events() -> dict[str, Any] | None:
    """Within a minute of a hop answered or a traceback completed, not only at the interval."""
    if TRACEBACK_EVENTS.newest_unhandled() is None:
        return None
    try:
        return _refresh()
    except TaskLockedException:
        return None  # a refresh is running; what it missed stays pending for the next minute


@db_task()
def refresh_now() -> dict[str, Any]:
    """On demand, from the consortium's "Recompute now" button."""
    return _refresh()
