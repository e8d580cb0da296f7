from __future__ import annotations

from django.db import models
from django.db.models import Q

from robotrace.core.scoping import OrgScoped


class ShakenVerification(OrgScoped):
    """The STIR/SHAKEN verdict on one reported call that carried an Identity header.

    Keyed by `report_id` without a database foreign key (call reports are partitioned on
    PostgreSQL). Owned by the reporter who sent the report; the consortium sees all."""

    class Outcome(models.TextChoices):
        VALID = "valid", "Verified"
        MALFORMED = "malformed", "Malformed header or PASSporT"
        STALE = "stale", "Stale (iat or Date)"
        CERT_UNAVAILABLE = "cert_unavailable", "Certificate unavailable"
        CERT_FAULT = "certificate_fault", "Certificate fault"
        UNTRUSTED = "untrusted", "Untrusted or revoked chain"
        BAD_SIGNATURE = "invalid_signature", "Invalid signature"
        TN_MISMATCH = "tn_mismatch", "Numbers do not match the call"

    scope_field = "reporter"

    report_id = models.BigIntegerField(unique=True)
    reporter = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    call_started_at = models.DateTimeField(db_index=True)
    verified = models.BooleanField(db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, db_index=True)
    sip_code = models.PositiveSmallIntegerField()
    failed_layer = models.CharField(max_length=20, blank=True)
    failure = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    layers = models.JSONField(default=dict)
    warnings = models.JSONField(default=list, blank=True)

    attest = models.CharField(max_length=1, blank=True, db_index=True)
    origid = models.CharField(max_length=100, blank=True, db_index=True)
    orig_tn = models.CharField(max_length=32, blank=True)
    dest_tn = models.CharField(max_length=32, blank=True)
    iat = models.BigIntegerField(null=True, blank=True)
    delta_seconds = models.BigIntegerField(null=True, blank=True, help_text="call start - iat")
    x5u = models.CharField(max_length=2048, blank=True)
    cert_fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    cert_subject = models.CharField(max_length=300, blank=True)
    cert_issuer = models.CharField(max_length=300, blank=True)
    signature_valid = models.BooleanField(null=True, blank=True)
    orig_mismatch = models.BooleanField(default=False, help_text="orig.tn differs from the calling number")
    signer_spc = models.CharField(max_length=16, blank=True, db_index=True)
    signer_provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    signer_source = models.CharField(max_length=20, blank=True, help_text="registry | directory | ''")
    calling_number_e164 = models.CharField(max_length=16, blank=True)
    called_number = models.CharField(max_length=16, blank=True)
    verified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-call_started_at"]
        indexes = [
            models.Index(fields=["signer_provider", "call_started_at"], name="shaken_signer_time_idx"),
            models.Index(fields=["outcome", "call_started_at"], name="shaken_outcome_time_idx"),
        ]

    def __str__(self) -> str:
        return f"report {self.report_id}: {self.outcome} ({self.sip_code})"


class SpcDirectory(models.Model):
    """One SPC (in the US, the OCN) from an imported OCN-to-provider table. Reference data."""

    spc = models.CharField(max_length=16, unique=True, help_text="Upper-cased")
    spc_as_listed = models.CharField(max_length=16)
    org_names = models.JSONField(default=list)
    cert_cns = models.JSONField(default=list, blank=True)
    cert_urls = models.JSONField(default=list, blank=True)
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=200, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["spc"]
        verbose_name_plural = "SPC directory"

    def __str__(self) -> str:
        return f"{self.spc} {', '.join(self.org_names)[:60]}"


class ShakenCursor(models.Model):
    """Durable catch-up position: the highest call-report id the sweeper has looked at."""

    name = models.CharField(max_length=40, unique=True)
    last_report_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(last_report_id__gte=0), name="shaken_cursor_nonneg")]
