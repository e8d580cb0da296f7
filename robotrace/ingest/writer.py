"""The write side of intake: normalised rows → the report table, de-duplicated.

This is the scale-out seam. Callers hand a batch of row tuples (schema.COLUMNS order) to a
`Writer` inside their own transaction; the writer returns how many were new. Today the
writers talk to the database; a JetStream or Kafka producer can take their place later.

- SQLite: one `executemany` of `INSERT … ON CONFLICT DO NOTHING` per batch against the
  unique index (reporter_id, source_report_id); the cursor's rowcount is the accepted count.
- PostgreSQL: one `INSERT INTO ingest_reportkey … SELECT FROM unnest(…) ON CONFLICT DO
  NOTHING RETURNING source_report_id, report_id` claims the new keys and allocates their
  ids in one round trip (a concurrent upload of the same key waits for the other
  transaction and then skips), then the new rows go in with psycopg 3 `COPY` straight into
  the partitioned table.

Rows within one batch must already be unique by source_report_id (intake keeps the first).
"""

from __future__ import annotations

from typing import Any, Protocol

import psycopg
from django.db import connection as default_connection
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

from robotrace.ingest.schema import COLUMNS

TABLE = "ingest_callreport"
SQLITE_CACHE_KIB = 32 * 1024
INSERT_COLUMNS = ("reporter_id", "upload_id", *COLUMNS)


class Writer(Protocol):
    def write(self, *, reporter_id: int, upload_id: int | None, rows: list[tuple[Any, ...]]) -> int: ...


class SqliteWriter:
    def __init__(self, conn: BaseDatabaseWrapper, table: str = TABLE, dedupe: bool = True):
        self.conn = conn
        placeholders = ", ".join("?" for _ in COLUMNS)
        tail = " ON CONFLICT DO NOTHING" if dedupe else ""
        # reporter_id and upload_id are the same for every row of a call, so they go into the
        # statement as integer literals and the rows are bound as they come (no per-row
        # tuple concatenation while holding the write lock).
        self.sql = f'INSERT INTO "{table}" ({", ".join(INSERT_COLUMNS)}) VALUES ({{}}, {{}}, {placeholders}){tail}'

    def write(self, *, reporter_id: int, upload_id: int | None, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        self.conn.ensure_connection()
        if getattr(self.conn, "_rt_ingest_cache", None) is not self.conn.connection:
            # SQLite's default 2 MB page cache makes every index insert of a 5,000-row batch
            # spill to the WAL; 32 MB keeps a batch's index pages in memory (3-4x faster).
            self.conn.connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            # Remember which connection has it: Django opens a new one per request.
            self.conn._rt_ingest_cache = self.conn.connection  # type: ignore[attr-defined]  # our marker kept on Django's connection wrapper
        # The raw sqlite3 cursor: Django's wrapper would rewrite %s per call and wrap errors,
        # which is all overhead here. It is the same connection, so the same transaction.
        cur = self.conn.connection.cursor()
        try:
            sql = self.sql.format(int(reporter_id), "NULL" if upload_id is None else int(upload_id))
            cur.executemany(sql, rows)
            return cur.rowcount
        finally:
            cur.close()


# PostgreSQL type of each report column for binary COPY, by Django field type (a foreign
# key takes its target's). Binary COPY sends values the server stores without parsing text
# (timestamps as 8-byte integers, no escaping of strings), which is what makes it cheaper.
_PG_COPY_TYPES = {
    "CharField": "text",  # varchar's binary form is text's
    "TextField": "text",
    "DateTimeField": "timestamptz",
    "IntegerField": "int4",
    "BigIntegerField": "int8",
    "BigAutoField": "int8",
    "BooleanField": "bool",
    "JSONField": "jsonb",
}


def copy_types(columns: tuple[str, ...]) -> list[str]:
    from robotrace.ingest.models import CallReport

    fields = {f.column: f for f in CallReport._meta.concrete_fields}
    out = []
    for column in columns:
        field = fields[column]
        if isinstance(field, models.ForeignKey):
            field = field.target_field
        out.append(_PG_COPY_TYPES[field.get_internal_type()])
    return out


class JsonTextBinaryDumper(Dumper):
    """jsonb for binary COPY from the JSON text the normaliser already wrote: the binary form
    is a version byte and that same text. (psycopg's own jsonb dumper would JSON-encode the
    str again, storing a JSON string instead of the array.)"""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


class PostgresWriter:
    def __init__(self, conn: BaseDatabaseWrapper, table: str = TABLE, dedupe: bool = True):
        self.conn = conn
        self.dedupe = dedupe
        cols = ("id", *INSERT_COLUMNS) if dedupe else INSERT_COLUMNS
        self.copy_sql = f'COPY "{table}" ({", ".join(cols)}) FROM STDIN (FORMAT BINARY)'
        self.copy_types = copy_types(cols)
        self.started_at = COLUMNS.index("call_started_at")

    def _cursor(self) -> psycopg.Cursor[Any]:
        self.conn.ensure_connection()
        # A server-binding cursor on Django's connection (so inside its transaction): Django's
        # own cursors bind parameters client-side, as SQL text, which would turn the %b arrays
        # below back into text the server must parse.
        cur = psycopg.Cursor(self.conn.connection)
        # Only this cursor's adapters: the jsonb column's dumper for binary COPY.
        cur.adapters.register_dumper(None, JsonTextBinaryDumper)
        return cur

    def write(self, *, reporter_id: int, upload_id: int | None, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        with self._cursor() as cur:
            if not self.dedupe:
                with cur.copy(self.copy_sql) as copy:
                    copy.set_types(self.copy_types)
                    head = (reporter_id, upload_id)
                    for row in rows:
                        copy.write_row(head + row)
                return len(rows)
            # %b: the key and time arrays travel in binary, so the server parses no text
            # timestamps and the client formats none (half the round trip's cost).
            cur.execute(
                "INSERT INTO ingest_reportkey (reporter_id, source_report_id, call_started_at) "
                "SELECT %s, k, t FROM unnest(%b::text[], %b::timestamptz[]) AS u(k, t) "
                "ON CONFLICT DO NOTHING RETURNING source_report_id, report_id",
                [reporter_id, [row[0] for row in rows], [row[self.started_at] for row in rows]],
            )
            new_ids: dict[str, int] = dict(cur.fetchall())
            if not new_ids:
                return 0
            with cur.copy(self.copy_sql) as copy:
                copy.set_types(self.copy_types)
                for row in rows:
                    report_id = new_ids.get(row[0])
                    if report_id is not None:
                        copy.write_row((report_id, reporter_id, upload_id, *row))
            return len(new_ids)


def writer_for(conn: BaseDatabaseWrapper | None = None, *, table: str = TABLE, dedupe: bool = True) -> Writer:
    conn = conn or default_connection
    if conn.vendor == "postgresql":
        return PostgresWriter(conn, table, dedupe)
    if conn.vendor == "sqlite":
        return SqliteWriter(conn, table, dedupe)
    raise RuntimeError(f"no ingest writer for database vendor {conn.vendor!r}")
