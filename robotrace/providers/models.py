from __future__ import annotations

from django.db import models


class Provider(models.Model):
    """A voice service provider in the registry, whether or not it has a platform account.

    Registry data is reference data every signed-in organisation may read; what is private
    (scorecards of others, hops) is scoped where it lives.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending (named by a hop, not yet confirmed)"
        MERGED = "merged", "Merged into another record"

    class Role(models.TextChoices):
        ORIGINATING = "originating", "Originating"
        TRANSIT = "transit", "Transit / intermediate"
        GATEWAY = "gateway", "Gateway (US point of entry)"
        TERMINATING = "terminating", "Terminating"
        FOREIGN = "foreign", "Foreign"

    class RmdStatus(models.TextChoices):
        UNKNOWN = "unknown", "Not checked"
        LISTED = "listed", "Listed"
        NOT_LISTED = "not_listed", "Not listed"
        REMOVED = "removed", "Removed"

    name = models.CharField(max_length=200, db_index=True)
    dba_names = models.JSONField(default=list, blank=True)
    frn = models.CharField("FCC Registration Number", max_length=10, blank=True, db_index=True)
    ocns = models.JSONField("Operating Company Numbers", default=list, blank=True)
    spc = models.CharField("SHAKEN service provider code", max_length=16, blank=True, db_index=True)
    country = models.CharField(max_length=2, default="US")
    roles = models.JSONField(default=list, blank=True, help_text="Typical roles: originating, transit, gateway, terminating")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from")
    organisation = models.OneToOneField(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="provider"
    )

    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    fallback_contact_email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, default="America/New_York")
    business_hours_start = models.PositiveSmallIntegerField(default=8)
    business_hours_end = models.PositiveSmallIntegerField(default=17)
    business_days = models.JSONField(default=list, blank=True, help_text="ISO weekdays 1-7; empty means Mon-Fri")

    # Where automated hop requests go, when the provider has registered one.
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=80, blank=True)

    rmd_status = models.CharField(max_length=12, choices=RmdStatus.choices, default=RmdStatus.UNKNOWN)
    rmd_first_seen_at = models.DateField(null=True, blank=True)
    rmd_last_seen_at = models.DateField(null=True, blank=True)
    rmd_removed_at = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_account(self) -> bool:
        return self.organisation_id is not None

    @property
    def is_foreign(self) -> bool:
        return self.country.upper() != "US"
