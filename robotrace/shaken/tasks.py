"""Thin Huey entry points that take ids and call services for the shaken app."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.shaken import services

logger = logging.getLogger("robotrace.shaken")


@db_task(retries=2, retry_delay=10)
def verify_upload(upload_id: int) -> int:
    return services.verify_upload(upload_id=upload_id)


@db_periodic_task(crontab(minute="*"))
def catch_up() -> int:
    """Every minute: verify signed reports past the durable cursor (covers lost signals)."""
    total = services.catch_up_all(max_batches=20)
    if total:
        logger.info("shaken catch-up verified %s reports", total)
    return total
