from __future__ import annotations

from django.db import models
from django.db.models import Q

from robotrace.core.scoping import OrgScoped


class Upload(OrgScoped):
    """One batch of call reports from a reporter: an API request, a stream message or a file."""

    class Source(models.TextChoices):
        API = "api", "API"
        STREAM = "stream", "Live stream"
        FILE = "file", "File import"

    class Status(models.TextChoices):
        STORED = "stored", "Stored"
        FAILED = "failed", "Failed (nothing stored)"

    scope_field = "reporter"

    reporter = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="uploads")
    source = models.CharField(max_length=10, choices=Source.choices)
    format = models.CharField(max_length=20)
    filename = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STORED)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    lines = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects_path = models.CharField(max_length=255, blank=True, help_text="NDJSON of every reject, under MEDIA_ROOT")
    first_rejects = models.JSONField(default=list, blank=True)
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "idempotency_key"], condition=~Q(idempotency_key=""), name="upload_idempotency_unique"
            )
        ]


class CallReport(OrgScoped):
    """One reported call. Unique per (reporter, source_report_id) so retries never duplicate.

    Other tables refer to a report by `report_id` without a database foreign key: on
    PostgreSQL this table is range-partitioned by month on `call_started_at`, and a
    partitioned table's keys must include the partition column. So the uniqueness of
    (reporter, source_report_id) lives in the unpartitioned `ReportKey` table there; on
    SQLite a unique index on this table carries it (migration 0002). Neither is in the
    model's Meta, because the two databases enforce it differently.

    Rows are written by `ingest.writer` (COPY / executemany), not by `save()`.
    """

    class ReportType(models.TextChoices):
        CARRIER_ANALYTICS = "carrier_analytics", "Carrier analytics"
        APP_REPORT = "app_report", "Blocking-app report"
        HONEYPOT = "honeypot", "Honeypot"
        COMPLAINT = "complaint", "Consumer complaint"

    scope_field = "reporter"

    # No database constraint: a per-row foreign-key check would cost the COPY hot path more
    # than the whole insert; the writer only ever writes the authenticated reporter's id.
    reporter = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    upload = models.ForeignKey(Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False)
    source_report_id = models.CharField(max_length=128)
    report_type = models.CharField(max_length=20, choices=ReportType.choices)
    received_at = models.DateTimeField()
    call_started_at = models.DateTimeField()

    calling_number = models.CharField(max_length=40, blank=True, help_text="As presented")
    # On PostgreSQL these two compare bytewise (COLLATE "C", migration 0005, outside the
    # model state because SQLite has no such collation): an AlterField must repeat it.
    calling_number_e164 = models.CharField(max_length=16, blank=True)
    called_number = models.CharField(max_length=16, blank=True, help_text="E.164")
    called_state = models.CharField(max_length=2, blank=True)
    duration_seconds = models.IntegerField(null=True, blank=True)
    caller_name = models.CharField(max_length=100, blank=True)

    transcript = models.TextField(blank=True)
    recording_url = models.CharField(max_length=500, blank=True)
    recording_sha256 = models.CharField(max_length=64, blank=True)
    callback_numbers = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=80, blank=True, help_text="The reporter's own label")

    upstream_provider = models.CharField(max_length=200, blank=True, help_text="Name, OCN or trunk the carrier received the call from")
    identity_header = models.TextField(blank=True)
    shaken_attest = models.CharField(max_length=1, blank=True)
    shaken_origid = models.CharField(max_length=100, blank=True)

    subject = models.CharField(max_length=200, blank=True)
    consumer_state = models.CharField(max_length=2, blank=True)
    consumer_city = models.CharField(max_length=100, blank=True)
    is_robocall = models.BooleanField(null=True, blank=True)

    is_calling_number_invalid = models.BooleanField(default=False)
    is_called_number_dnc = models.BooleanField(default=False)

    # Indexed by callreport_campaign_idx (campaign, call_started_at) where a campaign is set;
    # no separate FK index.
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", db_constraint=False, db_index=False
    )

    class Meta:
        ordering = ["-call_started_at"]
        indexes = [
            models.Index(fields=["calling_number_e164", "call_started_at"], name="callreport_calling_idx"),
            models.Index(fields=["called_number", "call_started_at"], name="callreport_called_idx"),
            models.Index(fields=["call_started_at"], name="callreport_time_idx"),
            # Reports arrive without a campaign (the engine assigns it later): indexing the
            # NULLs cost every intake row an index insert for lookups that never ask for them.
            models.Index(
                fields=["campaign", "call_started_at"], name="callreport_campaign_idx", condition=models.Q(campaign__isnull=False)
            ),
            # received_at and upload follow insertion order: on PostgreSQL migration 0004
            # makes these two BRIN indexes (a summary per block range, almost free to
            # maintain); SQLite has no BRIN and keeps the B-trees declared here.
            models.Index(fields=["received_at"], name="callreport_received_idx"),
            # No state index: the search's state filter reads newest-first along the time
            # index (migration 0005 has the measurements).
            models.Index(fields=["upload"], name="callreport_upload_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_report_id} {self.calling_number} → {self.called_number}"


class ReportKey(models.Model):
    """PostgreSQL only: the (reporter, source_report_id) → report id index that makes intake
    idempotent across monthly partitions. Created by migration 0002 with raw SQL (its
    `report_id` defaults to the report table's sequence, so one INSERT … ON CONFLICT DO
    NOTHING RETURNING both claims the key and allocates the id)."""

    reporter_id = models.BigIntegerField(primary_key=True)  # composite key in SQL; see migration
    source_report_id = models.CharField(max_length=128)
    report_id = models.BigIntegerField()
    call_started_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "ingest_reportkey"


class DncNumber(models.Model):
    """A called number on a do-not-call list. Intake flags `is_called_number_dnc` when the
    table holds any numbers; `ingest.dnc` loads lists into it."""

    e164 = models.CharField(max_length=16, primary_key=True)
    source = models.CharField(max_length=50, default="national")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "do-not-call number"

    def __str__(self) -> str:
        return self.e164
