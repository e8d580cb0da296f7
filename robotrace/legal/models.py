"""Legal requests from agencies, their review, productions, holds and evidence packages.

Every row belongs to one agency (the requester, or the agency a package is produced to);
agencies see only their own rows, the consortium sees all, providers and reporters none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

from robotrace.core.scoping import OrgScoped

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def _agency_only(field: str, org: Organisation) -> Q:
    if org.is_agency:
        return Q(**{field: org})
    return Q(pk__in=[])


class LegalRequest(OrgScoped):
    class Type(models.TextChoices):
        SUBPOENA = "subpoena", "Subpoena"
        CID = "cid", "Civil investigative demand"
        COURT_ORDER = "court_order", "Court order"
        PRESERVATION = "preservation", "Preservation letter"
        EMERGENCY = "emergency", "Emergency disclosure"
        TRACEBACK = "traceback", "Traceback request"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_REVIEW = "in_review", "In review"
        CLARIFICATION = "clarification_needed", "Clarification needed"
        NARROWED = "narrowed", "Narrowed"
        ACCEPTED = "accepted", "Accepted, producing"
        PRODUCED = "produced", "Produced"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Priority(models.IntegerChoices):
        # Lower sorts first: emergency disclosures jump the queue.
        EMERGENCY = 0, "Emergency"
        HIGH = 1, "High"
        NORMAL = 2, "Normal"

    class DueState(models.TextChoices):
        ON_TIME = "", "On time"
        DUE_SOON = "due_soon", "Due soon"
        OVERDUE = "overdue", "Overdue"

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="legal_requests")
    filed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filed_via_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    type = models.CharField(max_length=20, choices=Type.choices)
    issuing_authority = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=300)
    case_number = models.CharField(max_length=80)
    case_number_key = models.CharField(max_length=80, db_index=True, help_text="Case number normalised for duplicate search")
    date_signed = models.DateField()
    due_date = models.DateField()
    due_at = models.DateTimeField(db_index=True)
    ndo = models.BooleanField("Non-disclosure order", default=False)
    ndo_ends_on = models.DateField(null=True, blank=True)
    records_from = models.DateField(null=True, blank=True)
    records_to = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)

    status = models.CharField(max_length=24, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    due_state = models.CharField(max_length=10, choices=DueState.choices, default=DueState.ON_TIME, blank=True, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    assigned_to = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    decision_note = models.TextField(blank=True, help_text="Reason for rejection, what was narrowed, what to clarify")
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # Emergency disclosures need two different approvers, each after a fresh login.
    first_approved_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    second_approved_at = models.DateTimeField(null=True, blank=True)

    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_request_ids = models.JSONField(default=list, blank=True, help_text="Other requests touching the same targets")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    produced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "due_at", "id"]
        indexes = [models.Index(fields=["agency", "case_number_key"], name="legal_dup_idx")]

    def __str__(self) -> str:
        return f"{self.ref} {self.get_type_display()} {self.case_number}"

    @property
    def ref(self) -> str:
        return f"LR-{self.pk:06d}" if self.pk else "LR-new"

    @property
    def is_emergency(self) -> bool:
        return self.type == self.Type.EMERGENCY

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.PRODUCED, self.Status.REJECTED, self.Status.WITHDRAWN)

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("agency", org)


class LegalTarget(OrgScoped):
    class Kind(models.TextChoices):
        PHONE = "phone", "Phone number"
        CAMPAIGN = "campaign", "Campaign"
        TRACEBACK = "traceback", "Traceback"
        PROVIDER = "provider", "Provider"

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending"
        PRODUCE = "produce", "Produce"
        DO_NOT_PRODUCE = "do_not_produce", "Do not produce"

    scope_field = "request__agency"

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    phone_e164 = models.CharField(max_length=16, blank=True, db_index=True)
    campaign_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    traceback_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    provider_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["request", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def value(self) -> str:
        values: dict[str, str] = {
            self.Kind.PHONE: self.phone_e164,
            self.Kind.CAMPAIGN: f"C-{self.campaign_id}",
            self.Kind.TRACEBACK: f"TB-{self.traceback_id or 0:06d}",
            self.Kind.PROVIDER: f"P-{self.provider_id}",
        }
        return values.get(self.kind, "")

    @property
    def key(self) -> str:
        """Stable identity of what is targeted, for duplicate search."""
        raw: dict[str, object] = {
            self.Kind.PHONE: self.phone_e164,
            self.Kind.CAMPAIGN: self.campaign_id,
            self.Kind.TRACEBACK: self.traceback_id,
            self.Kind.PROVIDER: self.provider_id,
        }
        return f"{self.kind}:{raw.get(self.kind)}"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("request__agency", org)


class LegalDocument(OrgScoped):
    """A signed legal process (PDF), kept under MEDIA_ROOT/legal/ with a server-made name."""

    scope_field = "request__agency"

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="documents")
    stored_name = models.CharField(max_length=200, unique=True, help_text="Path relative to MEDIA_ROOT")
    original_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    pages = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("request__agency", org)


class LegalMessage(OrgScoped):
    class Role(models.TextChoices):
        CONSORTIUM = "consortium", "Consortium"
        AGENCY = "agency", "Agency"

    scope_field = "request__agency"

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=200)
    author_role = models.CharField(max_length=12, choices=Role.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("request__agency", org)


class Production(OrgScoped):
    """One response zip made for a request. The link expires; the evidence copy stays
    while a hold covers the request's targets."""

    scope_field = "request__agency"

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="productions")
    zip_path = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    manifest = models.JSONField(default=dict, blank=True, help_text="file name -> sha256, row counts")
    traceback_ids = models.JSONField(default=list, blank=True)
    campaign_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When the file was removed after expiry")

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def ref(self) -> str:
        return f"PR-{self.pk:06d}" if self.pk else "PR-new"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("request__agency", org)


class PreservationHold(OrgScoped):
    """Records held from every automatic deletion until `expires_at` (renewable)."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone number"
        CAMPAIGN = "campaign", "Campaign"
        TRACEBACK = "traceback", "Traceback"
        PROVIDER = "provider", "Provider"

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(LegalRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="holds")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    object_key = models.CharField(max_length=40, help_text="E.164 number or the row id")
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    renewals = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [models.Index(fields=["kind", "object_key"], name="legal_hold_key_idx")]

    @property
    def is_active(self) -> bool:
        return self.released_at is None and self.expires_at > timezone.now()

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("agency", org)


class EvidencePackage(OrgScoped):
    """A court-ready bundle for a TRO, built in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    scope_field = "produced_to"

    title = models.CharField(max_length=200)
    campaign_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    traceback_ids = models.JSONField(default=list, blank=True, help_text="Explicit tracebacks, when not a whole campaign")
    produced_to = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(LegalRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence_packages")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    zip_path = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    included_traceback_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def ref(self) -> str:
        return f"EP-{self.pk:06d}" if self.pk else "EP-new"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return _agency_only("produced_to", org)
