"""Cheaper report indexes, second round (each one is paid by every report at intake):

- No (called_state, call_started_at) index. It was the dearest of all at intake (a state
  has few values and times arrive in any order, so inserts land all over the index), and
  the one query that filters by state, the consortium search, reads newest-first, which
  the time index serves: a state holds a few percent of all calls, so walking the time
  index back finds a page of 50 matches after a few thousand rows.
- PostgreSQL: telephone numbers and reporters' report ids compare bytewise (`COLLATE "C"`).
  They are digits and ASCII identifiers with no linguistic order, and the database's
  default collation (here C.UTF-8, in production often en_US.UTF-8) sent every comparison
  in the number indexes and the idempotency key through the C library's locale code.
  SQLite already compares bytewise. Django's model state knows nothing of this (SQLite
  has no collation named "C"): an AlterField on these columns would regenerate the
  column with the default collation, so such a migration must repeat this step.

Measured on the benchmark's floor (200,000 normalised reports COPY'd into an identical
PostgreSQL table, alternating variants, four rounds): with the state index 56,000-72,600
rows/s; without it 86,100-90,600; also with bytewise numbers 92,500-101,500. SQLite,
5,000-row transactions: a fifth less time writing and committing.
"""

from __future__ import annotations

from django.db import migrations

BYTEWISE = {
    "ingest_callreport": {"calling_number_e164": "varchar(16)", "called_number": "varchar(16)"},
    "ingest_reportkey": {"source_report_id": "varchar(128)"},
}


def _collate(schema_editor, collation: str) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in BYTEWISE.items():
        for column, sql_type in columns.items():
            # On the partitioned table this rewrites every partition and rebuilds its indexes.
            schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE {sql_type} COLLATE "{collation}"')


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _collate(schema_editor, "C")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _collate(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [("ingest", "0004_report_index_costs")]

    operations = [
        migrations.RemoveIndex(model_name="callreport", name="callreport_state_idx"),
        migrations.RunPython(forwards, backwards),
    ]
