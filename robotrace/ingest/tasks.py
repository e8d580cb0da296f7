"""Thin Huey entry points for the ingest app."""

from __future__ import annotations

from datetime import date

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17", hour="3"))
def prepare_partitions() -> list[str]:
    """PostgreSQL: keep this month and the next INGEST_PARTITION_MONTHS_AHEAD months of
    ingest_callreport partitions ready (rows that landed in DEFAULT move over). SQLite: no-op."""
    from robotrace.ingest import conf, partitions

    today = date.today()
    return partitions.ensure_range(today, partitions.add_months(today, conf.PARTITION_MONTHS_AHEAD))
