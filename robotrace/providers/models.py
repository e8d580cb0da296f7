from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from robotrace.core.fields import SealedCharField
from robotrace.providers.choices import RmdStatus


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

    RmdStatus = RmdStatus

    name = models.CharField("Legal name", max_length=200, db_index=True)
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
    # Set when notices to every contact bounced or went unanswered by any channel; part of
    # the "does not participate" rule for providers without a platform account.
    contacts_unreachable_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="America/New_York")
    business_hours_start = models.PositiveSmallIntegerField(default=8)
    business_hours_end = models.PositiveSmallIntegerField(default=17)
    business_days = models.JSONField(default=list, blank=True, help_text="ISO weekdays 1-7; empty means Mon-Fri")

    # Where automated hop requests go, when the provider has registered one.
    webhook_url = models.URLField(blank=True)
    # Signs every hop request; sealed at rest (read back in clear), shown to the provider once.
    webhook_secret = SealedCharField(blank=True)
    webhook_secret_set_at = models.DateTimeField(null=True, blank=True)

    rmd_status = models.CharField(max_length=12, choices=RmdStatus.choices, default=RmdStatus.UNKNOWN)
    rmd_first_seen_at = models.DateField(null=True, blank=True)
    rmd_last_seen_at = models.DateField(null=True, blank=True)
    rmd_removed_at = models.DateField(null=True, blank=True)
    rmd_implementation = models.CharField("STIR/SHAKEN implementation (RMD)", max_length=80, blank=True, default="")
    rmd_provider_types = models.JSONField(default=list, blank=True, help_text="voice / gateway / intermediate, as certified")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Every name and OCN this provider answers to, normalised (providers.names), kept by
    # save() so that finding a provider by what a hop answer calls it is one query.
    lookup_keys = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        # find_provider's fallback reads the rows that have no keys yet (bulk-created): normally none.
        indexes = [models.Index(fields=["id"], condition=Q(lookup_keys=""), name="provider_unkeyed_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        from robotrace.providers.names import lookup_keys

        self.lookup_keys = lookup_keys(self.name, self.dba_names, self.ocns)
        fields = kwargs.get("update_fields")
        if fields is not None and {"name", "dba_names", "ocns"} & set(fields):
            kwargs["update_fields"] = {*fields, "lookup_keys"}
        super().save(*args, **kwargs)

    @property
    def has_account(self) -> bool:
        return self.organisation_id is not None

    @property
    def is_foreign(self) -> bool:
        return self.country.upper() != "US"

    @property
    def contacts_reachable(self) -> bool:
        return self.contacts_unreachable_at is None and bool(self.contact_email or self.fallback_contact_email)


class RmdImport(models.Model):
    """One FCC Robocall Mitigation Database export read by `robotrace providers import-rmd`."""

    file_name = models.CharField(max_length=255)
    seen_on = models.DateField(db_index=True)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    listed = models.PositiveIntegerField(default=0)
    not_listed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unmatched_rows = models.PositiveIntegerField(default=0)
    unknown_columns = models.JSONField(default=list, blank=True)
    bad_lines = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seen_on", "-id"]

    def __str__(self) -> str:
        return f"RMD export {self.seen_on} ({self.rows} rows)"


class RmdSnapshot(models.Model):
    """What one RMD export said about one registry provider on the day it was seen."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="rmd_snapshots")
    rmd_import = models.ForeignKey(RmdImport, on_delete=models.CASCADE, related_name="snapshots")
    seen_on = models.DateField(db_index=True)
    status = models.CharField(max_length=12, choices=Provider.RmdStatus.choices)
    matched_by = models.CharField(max_length=10, blank=True, help_text="frn or name")
    frn = models.CharField(max_length=10, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    implementation = models.CharField(max_length=80, blank=True)
    provider_types = models.JSONField(default=list, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "rmd_import"], name="rmd_snapshot_once_per_import")]
