"""Thin Huey entry points that take ids and call services for the legal app."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from robotrace.legal import services


@db_task(retries=1, retry_delay=10)
def build_evidence_package_task(package_id: int) -> int:
    return services.build_evidence_package(package_id).pk


@db_periodic_task(crontab(minute="*/10"))
def sweep_legal_deadlines() -> dict[str, Any]:
    """Due-soon / overdue states, hold reminders and the expired-production purge."""
    counts: dict[str, Any] = dict(services.sweep_due())
    counts["hold_reminders"] = services.sweep_holds()
    counts["purged_productions"] = services.purge_expired_productions()
    return counts
