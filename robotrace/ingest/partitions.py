"""PostgreSQL monthly partitions of ingest_callreport (no-ops on SQLite).

The table is `PARTITION BY RANGE (call_started_at)` with one partition per calendar month
(UTC) and a DEFAULT partition that catches anything outside the prepared months, so an
insert never fails for want of a partition. A Huey periodic task keeps the next months
ready; creating a month that already has rows in the default partition moves them over.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "ingest_callreport"


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_{month:%Y%m}"


def existing(conn: BaseDatabaseWrapper | None = None) -> set[str]:
    conn = conn or default_connection
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        return {row[0] for row in cur.fetchall()}


def ensure_month(month: date, conn: BaseDatabaseWrapper | None = None) -> bool:
    """Create the partition for `month` if missing, moving matching rows out of DEFAULT.
    Returns True when a partition was created."""
    conn = conn or default_connection
    if conn.vendor != "postgresql":
        return False
    month = month_start(month)
    name = partition_name(month)
    if name in existing(conn):
        return False
    lo = datetime(month.year, month.month, 1, tzinfo=UTC)
    nxt = add_months(month, 1)
    hi = datetime(nxt.year, nxt.month, 1, tzinfo=UTC)
    with conn.cursor() as cur:
        # Build it detached, move any rows the DEFAULT partition caught for this month, then
        # attach (ATTACH checks DEFAULT no longer holds rows of the new range).
        cur.execute(f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        cur.execute(
            f'WITH moved AS (DELETE FROM "{TABLE}_default" WHERE call_started_at >= %s AND call_started_at < %s RETURNING *) '
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [lo, hi],
        )
        cur.execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [lo, hi])
    return True


def ensure_range(first: date, last: date, conn: BaseDatabaseWrapper | None = None) -> list[str]:
    created = []
    month = month_start(first)
    while month <= month_start(last):
        if ensure_month(month, conn):
            created.append(partition_name(month))
        month = add_months(month, 1)
    return created
