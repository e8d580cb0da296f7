from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from robotrace.ingest import partitions, tasks
from robotrace.ingest.models import CallReport
from robotrace.ingest.tests.conftest import good, nd, post

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL-only")


@pg_only
def test_it_partitions_reports_by_month_on_postgresql(world: Any, reporter_key: str) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    post(reporter_key, nd(good(1, call_started_at=yesterday.isoformat()), good(2, call_started_at="2019-03-04T10:00:00Z")))
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text, source_report_id FROM ingest_callreport ORDER BY source_report_id")
        rows = cur.fetchall()
    assert rows == [(partitions.partition_name(yesterday.date()), "r-1"), ("ingest_callreport_default", "r-2")]


@pg_only
def test_it_moves_rows_out_of_the_default_partition_when_their_month_is_created(world: Any, reporter_key: str) -> None:
    post(reporter_key, nd(good(2, call_started_at="2019-03-04T10:00:00Z")))
    assert partitions.ensure_month(date(2019, 3, 1)) is True
    assert partitions.ensure_month(date(2019, 3, 1)) is False
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM ingest_callreport")
        assert cur.fetchall() == [("ingest_callreport_201903",)]
    assert CallReport.objects.for_org(world.reporter_a).get().source_report_id == "r-2"


@pg_only
def test_it_keeps_next_months_partitions_ready(world: Any) -> None:
    tasks.prepare_partitions.call_local()
    ahead = partitions.partition_name(partitions.add_months(date.today(), 3))
    assert ahead in partitions.existing()


def test_it_enforces_report_uniqueness_on_both_databases(world: Any, reporter_key: str) -> None:
    post(reporter_key, nd(good(1)))
    again = post(reporter_key, nd(good(1, call_started_at="2026-10-01T10:00:00Z")))  # another month, same key
    assert again.json()["duplicates"] == 1
    assert CallReport.objects.for_org(world.reporter_a).count() == 1


@pg_only
def test_new_months_get_the_cheap_intake_indexes(world: Any) -> None:
    """received_at and upload_id grow with insertion order (BRIN); reports arrive without a
    campaign, so the campaign index skips the NULLs (migration 0004)."""
    assert partitions.ensure_month(date(2019, 5, 1)) is True
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'ingest_callreport_201905'")
        defs = [row[0] for row in cur.fetchall()]
    assert any("USING brin (received_at)" in d for d in defs)
    assert any("USING brin (upload_id)" in d for d in defs)
    assert any("(campaign_id, call_started_at) WHERE (campaign_id IS NOT NULL)" in d for d in defs)
    assert not any("btree (received_at)" in d or "btree (upload_id)" in d for d in defs)
    assert not any("called_state" in d for d in defs)  # migration 0005: search by state walks the time index


@pg_only
def test_numbers_and_report_keys_compare_bytewise_in_every_partition(world: Any, reporter_key: str) -> None:
    """Migration 0005: COLLATE "C" on the indexed numbers and the idempotency key, kept by
    partitions created later (ATTACH refuses a partition whose collation differs)."""
    assert partitions.ensure_month(date(2019, 6, 1)) is True
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, a.attname, co.collname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_collation co ON co.oid = a.attcollation WHERE c.relname IN (%s, %s, %s) "
            "AND a.attname IN ('calling_number_e164', 'called_number', 'source_report_id', 'calling_number') ORDER BY 1, 2",
            ["ingest_callreport", "ingest_callreport_201906", "ingest_reportkey"],
        )
        rows = cur.fetchall()
    assert rows == [
        ("ingest_callreport", "called_number", "C"),
        ("ingest_callreport", "calling_number", "default"),
        ("ingest_callreport", "calling_number_e164", "C"),
        ("ingest_callreport", "source_report_id", "default"),
        ("ingest_callreport_201906", "called_number", "C"),
        ("ingest_callreport_201906", "calling_number", "default"),
        ("ingest_callreport_201906", "calling_number_e164", "C"),
        ("ingest_callreport_201906", "source_report_id", "default"),
        ("ingest_reportkey", "source_report_id", "C"),
    ]
    post(reporter_key, nd(good(1, call_started_at="2019-06-04T10:00:00Z")))
    assert post(reporter_key, nd(good(1, call_started_at="2019-06-04T10:00:00Z"))).json()["duplicates"] == 1


def test_reports_are_found_by_campaign_and_upload_with_the_cheaper_indexes(world: Any, reporter_key: str) -> None:
    from robotrace.campaigns.models import Campaign

    answer = post(reporter_key, nd(good(1), good(2), good(3))).json()
    campaign = Campaign.objects.create(name="Auto warranty")
    reports = CallReport.objects.for_org(world.reporter_a)
    assert reports.filter(upload_id=answer["upload_id"]).count() == 3
    CallReport.objects.unscoped(reason="test").filter(source_report_id="r-2").update(campaign=campaign)
    assert list(reports.filter(campaign=campaign).values_list("source_report_id", flat=True)) == ["r-2"]
    assert reports.filter(campaign__isnull=True).count() == 2
