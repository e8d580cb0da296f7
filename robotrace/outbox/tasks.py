"""Thin Huey entry points for the outbox."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from robotrace.outbox import services


@db_periodic_task(crontab(minute="*"))
def sweep() -> int:
    """Every minute: deliveries due again after a failure, and any left "sending" by a
    process that died (past their lease)."""
    return services.sweep()
