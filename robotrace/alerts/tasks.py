"""Thin Huey entry points that take ids and call services for the alerts app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.alerts import services


@db_task()
def process_campaign_event(event_id: int) -> int:
    return len(services.process_event(event_id=event_id))


@db_task()
def process_traceback_event(event_id: int) -> int:
    return len(services.process_traceback_event(event_id=event_id))


@db_periodic_task(crontab(minute="*/10"))
def recheck_recent_events() -> int:
    """Campaigns that grew into a subscription's jurisdiction after their event."""
    return services.recheck_recent()
