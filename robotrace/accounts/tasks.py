"""Thin Huey entry points that take ids and call services for the accounts app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from robotrace.accounts import conf, services


@db_periodic_task(crontab(minute="17", hour="3"))
def disable_idle_accounts() -> int:
    """Daily: disable accounts nobody signed in to for 90 days."""
    return services.disable_idle_accounts(idle_days=conf.idle_account_days())
