"""Thin Huey entry points that take ids and call services for the tracebacks app."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.tracebacks import automation, sweeper

logger = logging.getLogger("robotrace.tracebacks")


@db_task(retries=3, retry_delay=10)
def handle_campaign_event(event_id: int) -> list[int]:
    return automation.handle_campaign_event(event_id=event_id)


@db_periodic_task(crontab(minute="*"))
def sweep_hops() -> dict[str, int]:
    """Every minute: reminders, overdue state and escalations, non-responsive outcomes."""
    counts = sweeper.sweep()
    if any(counts.values()):
        logger.info("hop sweep: %s", counts)
    return counts

