from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from robotrace.accounts.choices import US_STATES
from robotrace.core.scoping import OrgScoped

__all__ = ["US_STATES", "ApiKey", "LoginFailure", "Organisation", "User"]


class Organisation(models.Model):
    """Every party on the platform: the consortium, providers, reporters and agencies."""

    class Kind(models.TextChoices):
        CONSORTIUM = "consortium", "Consortium"
        PROVIDER = "provider", "Voice service provider"
        REPORTER = "reporter", "Reporter"
        AGENCY = "agency", "Agency"

    class ReporterType(models.TextChoices):
        CARRIER_ANALYTICS = "carrier_analytics", "Carrier analytics feed"
        BLOCKING_APP = "blocking_app", "Blocking app"
        HONEYPOT = "honeypot", "Honeypot"
        COMPLAINT_IMPORTER = "complaint_importer", "Complaint importer"

    class AgencyLevel(models.TextChoices):
        STATE = "state", "State"
        FEDERAL = "federal", "Federal"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending approval"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    timezone = models.CharField(max_length=64, default="America/New_York")

    # reporter
    reporter_type = models.CharField(max_length=30, choices=ReporterType.choices, blank=True)
    # provider (voice service provider)
    frn = models.CharField("FCC Registration Number", max_length=10, blank=True)
    ocn = models.CharField("Operating Company Number", max_length=8, blank=True)
    country = models.CharField(max_length=2, blank=True, default="US")
    rmd_number = models.CharField("Robocall Mitigation Database number", max_length=40, blank=True)
    spc = models.CharField("STIR/SHAKEN service provider code", max_length=16, blank=True)
    # agency
    agency_level = models.CharField(max_length=10, choices=AgencyLevel.choices, blank=True)
    jurisdiction = models.JSONField(default=list, blank=True, help_text="US states and territories")
    main_phone = models.CharField(max_length=20, blank=True, help_text="Used for call-back verification")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_consortium(self) -> bool:
        return self.kind == self.Kind.CONSORTIUM

    @property
    def is_provider(self) -> bool:
        return self.kind == self.Kind.PROVIDER

    @property
    def is_reporter(self) -> bool:
        return self.kind == self.Kind.REPORTER

    @property
    def is_agency(self) -> bool:
        return self.kind == self.Kind.AGENCY


class User(AbstractUser):
    """A person. Belongs to exactly one organisation, with one role there."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        READ_ONLY = "read_only", "Read-only"

    class Approval(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Pending verification"
        REJECTED = "rejected", "Rejected"

    class Verification(models.TextChoices):
        CALLBACK = "callback", "Call-back to the agency's main number"
        IN_PERSON = "in_person", "In person"
        SUPERVISOR = "supervisor", "Supervisor attestation"
        EXISTING_RELATIONSHIP = "existing", "Existing verified relationship"

    email = models.EmailField(unique=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    badge_number = models.CharField(max_length=40, blank=True)

    approval = models.CharField(max_length=20, choices=Approval.choices, default=Approval.APPROVED)
    verification_method = models.CharField(max_length=20, choices=Verification.choices, blank=True)
    verification_notes = models.TextField(blank=True)
    verified_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

    locked_at = models.DateTimeField(null=True, blank=True)
    locked_reason = models.CharField(max_length=200, blank=True)
    # Bumped to end every session of this user at once (disable, role change, admin action).
    session_epoch = models.PositiveIntegerField(default=0)

    objects: ClassVar[UserManager] = UserManager()

    REQUIRED_FIELDS = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_org_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def can_write(self) -> bool:
        return self.role != self.Role.READ_ONLY

    @property
    def needs_mfa(self) -> bool:
        """Consortium and agency people may not pass enrolment without a second factor."""
        org = self.organisation
        return org is not None and org.kind in (Organisation.Kind.CONSORTIUM, Organisation.Kind.AGENCY)


class LoginFailure(models.Model):
    """A failed password attempt, counted for the 5-in-15-minutes lockout."""

    email = models.CharField(max_length=254, db_index=True)
    at = models.DateTimeField(db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)


class ApiKey(OrgScoped):
    """A machine credential. Shown once, stored as a SHA-256 hash, found by its prefix."""

    class Scope(models.TextChoices):
        INGEST = "ingest", "Push call reports"
        TRACEBACK_RESPOND = "traceback:respond", "Answer hop requests"
        TRACEBACK_READ = "traceback:read", "Read tracebacks"
        LEGAL_READ = "legal:read", "Read legal requests and productions"
        LEGAL_WRITE = "legal:write", "File legal requests"
        ALERTS_READ = "alerts:read", "Read alerts"
        CAMPAIGNS_READ = "campaigns:read", "Read campaigns"
        PROVIDERS_READ = "providers:read", "Read provider registry and scorecards"
        ACCOUNTS_READ = "accounts:read", "Read your organisation's API keys"
        ALERTS_WRITE = "alerts:write", "Manage alert subscriptions"
        SHAKEN_READ = "shaken:read", "Read call-authentication verdicts"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=40, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return Q(organisation=org)
