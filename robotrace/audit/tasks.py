"""Thin Huey entry points that take ids and call services for the audit app."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from robotrace.audit import anchors, denials


@db_periodic_task(crontab(minute="*/10"))
def anchor_chain() -> dict[str, Any] | None:
    """Every ten minutes: a signed checkpoint of the chain head outside the database (skipped
    when that head is already anchored today). Deleting events newer than the last anchor
    goes unseen until the next one, so this period is the window."""
    return anchors.write_anchor()


@db_periodic_task(crontab(minute="*"))
def summarise_denials() -> int:
    """Every minute: one event per actor and action for the refusals of each finished minute
    that were counted but not written one by one."""
    return denials.summarise()
