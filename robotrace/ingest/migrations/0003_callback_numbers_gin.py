"""PostgreSQL: a GIN index on callback_numbers, so "every report that gave this callback
number" (search, campaign linking) is an index lookup (`@>`). SQLite has no equivalent and
scans; the embedded database is small."""

from __future__ import annotations

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS callreport_callbacks_gin ON ingest_callreport USING gin (callback_numbers jsonb_path_ops)"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS callreport_callbacks_gin")


class Migration(migrations.Migration):
    dependencies = [("ingest", "0002_partitioning_and_dnc")]
    operations = [migrations.RunPython(forwards, backwards)]
