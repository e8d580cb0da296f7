"""Thin Huey entry points that take ids and call services for the alerts app."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.alerts import services


@db_task()
def process_campaign_event(event_id: int) -> int:
    return len(services.process_event(event_id=event_id))


@db_task()
def process_traceback_event(event_id: int) -> int:
    return len(services.process_traceback_event(event_id=event_id))


@db_task()
def deliver(delivery_id: int) -> Any:
    d = services.attempt_delivery(delivery_id=delivery_id)
    return d.status if d is not None else None


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> int:
    """Durable retries: every minute, attempt deliveries whose next_attempt_at has come."""
    return services.sweep_deliveries()


@db_periodic_task(crontab(minute="*/10"))
def recheck_recent_events() -> int:
    """Campaigns that grew into a subscription's jurisdiction after their event."""
    return services.recheck_recent()
