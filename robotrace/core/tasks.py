"""Thin Huey entry points for core."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from robotrace.core import events


@db_periodic_task(crontab(minute="*"))
def catch_up_events() -> dict[str, int]:
    """Every minute: event rows a subscriber has not handled (a lost signal or task, a crash
    between a commit and its enqueue)."""
    return events.catch_up_all()
