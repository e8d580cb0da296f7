"""Thin Huey entry points for the campaign engine.

`assign_upload` runs when ingest says an upload committed; `sweep` runs every minute from
the durable cursor, so reports whose notification was lost (a crash between commit and
enqueue) are still assigned. Both run the same cursor sweep: the cursor walks the report
primary key, which every database indexes, while CallReport.upload is not indexed (the
table is partitioned by month on PostgreSQL). Ids the cursor passes before their upload
commits (concurrent uploads on PostgreSQL) stay open gaps that every sweep re-reads
(store.assign_reports).
"""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def assign_upload(upload_id: int) -> dict[str, Any]:
    from robotrace.campaigns import store

    return store.catch_up()


@db_periodic_task(crontab(minute="*"))
def sweep() -> dict[str, Any]:
    from robotrace.campaigns import store

    return store.catch_up()
