"""Idempotency keys and, on PostgreSQL, monthly range partitioning of the report table.

SQLite: a unique index on (reporter_id, source_report_id) of ingest_callreport.
PostgreSQL: ingest_callreport becomes `PARTITION BY RANGE (call_started_at)` with primary key
(id, call_started_at), a sequence for ids, monthly partitions around today and a DEFAULT
partition; uniqueness moves to the unpartitioned ingest_reportkey table, whose report_id
draws from the same sequence.
"""

from __future__ import annotations

from datetime import date

import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    conn = schema_editor.connection
    if conn.vendor == "sqlite":
        schema_editor.execute(
            "CREATE UNIQUE INDEX callreport_reporter_source_unique ON ingest_callreport (reporter_id, source_report_id)"
        )
        return
    if conn.vendor != "postgresql":
        return
    from robotrace.ingest import partitions

    with conn.cursor() as cur:
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'ingest_callreport' AND indexname NOT LIKE '%%pkey'"
        )
        index_defs = [row[0] for row in cur.fetchall()]
        cur.execute("ALTER TABLE ingest_callreport RENAME TO ingest_callreport_old")
        cur.execute(
            "CREATE TABLE ingest_callreport (LIKE ingest_callreport_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (call_started_at)"
        )
        cur.execute("CREATE TABLE ingest_callreport_default PARTITION OF ingest_callreport DEFAULT")
        cur.execute("INSERT INTO ingest_callreport SELECT * FROM ingest_callreport_old")
        cur.execute("SELECT coalesce(max(id), 0) FROM ingest_callreport_old")
        start = cur.fetchone()[0] + 1
        # Dropping the old table frees its index names; recreate them on the new table.
        cur.execute("DROP TABLE ingest_callreport_old")
        for definition in index_defs:
            cur.execute(definition)
        cur.execute(f"CREATE SEQUENCE ingest_callreport_id_seq START {start} OWNED BY ingest_callreport.id")
        cur.execute("ALTER TABLE ingest_callreport ALTER COLUMN id SET DEFAULT nextval('ingest_callreport_id_seq')")
        cur.execute("ALTER TABLE ingest_callreport ADD PRIMARY KEY (id, call_started_at)")
        cur.execute(
            "CREATE TABLE ingest_reportkey ("
            " reporter_id bigint NOT NULL,"
            " source_report_id varchar(128) NOT NULL,"
            " report_id bigint NOT NULL DEFAULT nextval('ingest_callreport_id_seq'),"
            " call_started_at timestamptz NOT NULL,"
            " PRIMARY KEY (reporter_id, source_report_id))"
        )
        cur.execute(
            "INSERT INTO ingest_reportkey (reporter_id, source_report_id, report_id, call_started_at) "
            "SELECT reporter_id, source_report_id, id, call_started_at FROM ingest_callreport"
        )
    today = date.today()
    partitions.ensure_range(partitions.add_months(today, -12), partitions.add_months(today, 3), conn)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    conn = schema_editor.connection
    if conn.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS callreport_reporter_source_unique")
    elif conn.vendor == "postgresql":
        raise RuntimeError("un-partitioning ingest_callreport is not supported; restore from backup")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("ingest", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="callreport", name="callreport_reporter_source_unique"),
        migrations.AlterField(
            model_name="callreport",
            name="reporter",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="callreport",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reports",
                to="campaigns.campaign",
            ),
        ),
        migrations.AddIndex(
            model_name="callreport",
            index=models.Index(fields=["called_state", "call_started_at"], name="callreport_state_idx"),
        ),
        migrations.AddIndex(
            model_name="callreport",
            index=models.Index(fields=["upload"], name="callreport_upload_idx"),
        ),
        migrations.CreateModel(
            name="ReportKey",
            fields=[
                ("reporter_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("source_report_id", models.CharField(max_length=128)),
                ("report_id", models.BigIntegerField()),
                ("call_started_at", models.DateTimeField()),
            ],
            options={"db_table": "ingest_reportkey", "managed": False},
        ),
        migrations.CreateModel(
            name="DncNumber",
            fields=[
                ("e164", models.CharField(max_length=16, primary_key=True, serialize=False)),
                ("source", models.CharField(default="national", max_length=50)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name": "do-not-call number"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
