"""Thin Huey entry points that take ids and call services for the tracebacks app."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.tracebacks import automation, services

logger = logging.getLogger("robotrace.tracebacks")


@db_task(retries=2, retry_delay=5)
def deliver_webhook(delivery_id: int) -> str:
    return services.deliver_webhook(delivery_id=delivery_id)


@db_task(retries=2, retry_delay=30)
def send_hop_email(hop_id: int, kind: str) -> int:
    return services.send_hop_email(hop_id=hop_id, kind=kind)


@db_task(retries=3, retry_delay=10)
def handle_campaign_event(event_id: int) -> list[int]:
    return automation.handle_campaign_event(event_id=event_id)


@db_periodic_task(crontab(minute="*"))
def sweep_hops() -> dict[str, int]:
    """Every minute: reminders, overdue state and escalations, non-responsive outcomes."""
    counts = services.sweep()
    if any(counts.values()):
        logger.info("hop sweep: %s", counts)
    return counts


@db_periodic_task(crontab(minute="*"))
def retry_webhooks() -> int:
    return services.retry_webhooks()
