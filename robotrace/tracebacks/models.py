from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from robotrace.core.scoping import OrgScoped

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


class Traceback(OrgScoped):
    """One sample call followed hop by hop back to the provider that originated it."""

    class Source(models.TextChoices):
        REPORT = "report", "From a call report"
        CAMPAIGN = "campaign", "From a campaign"
        AGENCY_REQUEST = "agency_request", "Agency traceback request"
        MANUAL = "manual", "Opened by staff"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        ORIGIN_AND_CUSTOMER = "origin_and_customer", "Originating provider and customer identified"
        ORIGIN_ONLY = "origin_only", "Originating provider identified"
        FOREIGN_ORIGIN = "foreign_origin", "Foreign origin, US point of entry identified"
        NON_RESPONSIVE = "non_responsive", "Stopped at a non-responsive provider"
        NO_RECORD = "no_record", "No record"
        REFUSED = "refused", "Refused"

    class Priority(models.TextChoices):
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        LIVE_SCAM = "live_scam", "Live scam"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS, db_index=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, default=Outcome.IN_PROGRESS, db_index=True)
    priority = models.CharField(max_length=12, choices=Priority.choices, default=Priority.NORMAL)

    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="tracebacks")
    sample_report_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    call_started_at = models.DateTimeField()
    call_timezone = models.CharField(max_length=64, default="UTC", help_text="The requester's zone, kept as given")
    calling_number = models.CharField(max_length=40)
    called_number = models.CharField(max_length=16)
    transcript = models.TextField(blank=True)
    recording_sha256 = models.CharField(max_length=64, blank=True)
    legal_basis = models.JSONField(default=list, blank=True)
    identity_header = models.TextField(blank=True)

    class Kind(models.TextChoices):
        TRACEBACK = "traceback", "Traceback (hop by hop)"
        TRACE_FORWARD = "trace_forward", "Trace forward (callback number)"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TRACEBACK)
    callback_number = models.CharField(max_length=16, blank=True, help_text="E.164; trace-forward asks its holder")
    # STIR/SHAKEN: the verified signer of the sample call is a strong hint of the origin.
    shaken_signer = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shaken_attest = models.CharField(max_length=1, blank=True)
    shaken_origid = models.CharField(max_length=100, blank=True)
    shaken_mismatch = models.BooleanField(default=False, help_text="The chain's origin and the SHAKEN signer disagree")
    shaken_mismatch_detail = models.CharField(max_length=300, blank=True)
    hop_count = models.PositiveSmallIntegerField(default=0)

    originating_provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    originating_customer = models.JSONField(default=dict, blank=True)
    point_of_entry_provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    non_responsive_provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    opened_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_agency = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"TB-{self.pk:06d}" if self.pk else "TB-new"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        if org.is_agency:
            from robotrace.core.entitlements import ids_for_agency

            return Q(requested_by_agency=org) | Q(pk__in=ids_for_agency(cls._meta.label, org))
        if org.is_provider:
            # A provider may know a traceback exists only through its own hops; what it may
            # read of it is limited further by the views (its hop only).
            return Q(hops__provider__organisation=org)
        return Q(pk__in=[])


class Hop(OrgScoped):
    """One provider's step in a traceback: a request, its 24-hour clock and its answer."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ANSWERED = "answered", "Answered"
        OVERDUE = "overdue", "Overdue"
        NON_RESPONSIVE = "non_responsive", "Non-responsive"
        CANCELLED = "cancelled", "Cancelled"

    class Response(models.TextChoices):
        UPSTREAM = "upstream", "Received from an upstream provider"
        ORIGINATED = "originated", "Originated here (customer identified)"
        FOREIGN_UPSTREAM = "foreign_upstream", "Upstream is foreign (we are the US point of entry)"
        NO_RECORD = "no_record", "No record"
        REFUSED = "refused", "Refused"

    class CustomerAction(models.TextChoices):
        NONE = "", "None"
        WARNED = "warned", "Warned"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"

    scope_field = "provider__organisation"

    traceback = models.ForeignKey(Traceback, on_delete=models.CASCADE, related_name="hops")
    sequence = models.PositiveSmallIntegerField(help_text="1 = terminating provider")
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="hops")
    named_by = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The downstream provider that named this one")
    is_direct_signer_request = models.BooleanField(default=False, help_text="Sent in parallel to the STIR/SHAKEN signer")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True)

    received_at = models.DateTimeField(help_text="When the request reached the provider")
    clock_starts_at = models.DateTimeField(help_text="Business-hours adjusted start of the 24-hour clock")
    due_at = models.DateTimeField(db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    response = models.CharField(max_length=20, choices=Response.choices, blank=True)
    upstream_provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    upstream_detail = models.CharField(max_length=200, blank=True, help_text="Name, OCN or trunk as the provider gave it")
    customer = models.JSONField(default=dict, blank=True)
    customer_action = models.CharField(max_length=12, choices=CustomerAction.choices, blank=True)
    no_record_reason = models.CharField(max_length=200, blank=True)
    attestation_seen = models.CharField(max_length=1, blank=True)
    notes = models.TextField(blank=True)
    answered_by_label = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True)
    # Set when this provider attested A/B on a call the chain shows it did not originate.
    attestation_flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["traceback", "sequence"]
        indexes = [
            models.Index(fields=["provider", "status"], name="hop_provider_status_idx"),
            models.Index(fields=["status", "due_at"], name="hop_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.traceback.ref} hop {self.sequence}"


class NumberBlock(models.Model):
    """Which provider holds a block of numbers (NPA-NXX, thousands block or any prefix of the
    10-digit NANP number). Reference data, readable by every signed-in organisation."""

    prefix = models.CharField(max_length=10, unique=True, help_text="Leading digits of the 10-digit NANP number")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="number_blocks")
    source = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} → {self.provider_id}"


class HopEvidence(OrgScoped):
    """A file a provider attached to its answer: CDR lines, SIP headers, a screenshot."""

    class Kind(models.TextChoices):
        CDR = "cdr", "CDR lines"
        SIP = "sip", "SIP headers / trace"
        OTHER = "other", "Other"

    scope_field = "hop__provider__organisation"

    hop = models.ForeignKey(Hop, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OTHER)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="tracebacks/evidence/%Y/%m/")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["uploaded_at"]


class TracebackEvent(OrgScoped):
    """The timeline of a traceback: requests, answers, reminders, escalations. Consortium
    eyes only (it shows the whole chain). Its "hop.answered" and "traceback.completed" rows
    are also the durable events other apps subscribe to (tracebacks.events)."""

    traceback = models.ForeignKey(Traceback, on_delete=models.CASCADE, related_name="events")
    hop = models.ForeignKey(Hop, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=400)
    # Rows of the kinds in tracebacks.events are events for higher layers: the core.events
    # subscribers that have handled one add their name here.
    handled_by = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "id"]

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return Q(pk__in=[])


class TracebackRequest(OrgScoped):
    """An agency asks the consortium to trace a call; staff accept (opening a traceback the
    agency is then entitled to read) or decline."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    call_started_at = models.DateTimeField()
    call_timezone = models.CharField(max_length=64, default="UTC")
    calling_number = models.CharField(max_length=40)
    called_number = models.CharField(max_length=16)
    transcript = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    traceback = models.ForeignKey(Traceback, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
