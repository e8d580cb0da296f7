from __future__ import annotations

from django.db import models

from robotrace.campaigns.choices import Category, EventKind
from robotrace.core.fields import SealedCharField
from robotrace.core.scoping import OrgScoped


class AlertSubscription(OrgScoped):
    """What an agency wants to hear about: a jurisdiction (states and/or area codes),
    campaign categories and thresholds measured inside that jurisdiction."""

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="alert_subscriptions")
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=120)
    all_states = models.BooleanField(default=False, help_text="Every state and territory (federal agencies only)")
    states = models.JSONField(default=list, blank=True, help_text="Two-letter codes of called states")
    area_codes = models.JSONField(default=list, blank=True, help_text="NPAs of called numbers")
    categories = models.JSONField(default=list, blank=True, help_text="campaigns.Category values; empty = every category")
    event_kinds = models.JSONField(default=list, blank=True, help_text="CampaignEvent kinds; empty = every kind")
    min_reports = models.PositiveIntegerField(default=5, help_text="Reports of the campaign inside the jurisdiction")
    min_states = models.PositiveIntegerField(default=1, help_text="Distinct called states inside the jurisdiction")
    send_email = models.BooleanField(default=True, help_text="E-mail the agency's people a link (never the data)")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agency", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def jurisdiction_label(self) -> str:
        from robotrace.alerts.queries import Jurisdiction

        return Jurisdiction.of(self).label


    @property
    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]

    @property
    def event_kind_labels(self) -> list[str]:
        labels = dict(EventKind.choices)
        return [str(labels.get(k, k)) for k in self.event_kinds]


class WebhookEndpoint(OrgScoped):
    """An agency system that receives alerts, signed per Standard Webhooks.

    The secret is kept because every delivery is signed with it; it is shown to the agency
    only once, when the endpoint is created or the secret rotated."""

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="webhook_endpoints")
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(max_length=500)
    secret = SealedCharField()  # sealed at rest, read back in clear to sign deliveries
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agency", "url"]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        # When it was issued, not any of its characters: the secret is shown once only.
        return f"issued {(self.secret_rotated_at or self.created_at):%Y-%m-%d %H:%M} UTC"


class Alert(OrgScoped):
    """One campaign crossing one subscription's thresholds, with the evidence as it stood."""

    scope_field = "agency"

    agency = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="alerts")
    subscription = models.ForeignKey(AlertSubscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    subscription_name = models.CharField(max_length=120, blank=True, help_text="Kept when the subscription is deleted")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("campaigns.CampaignEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One alert per crossing: a later event of the same kind for the same campaign
            # does not alert the same subscription again.
            models.UniqueConstraint(fields=["subscription", "campaign", "event_kind"], name="alert_one_per_crossing"),
        ]
        indexes = [models.Index(fields=["agency", "read_at"], name="alert_agency_read_idx")]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"AL-{self.pk:06d}" if self.pk else "AL-new"

    @property
    def event_label(self) -> str:
        return str(dict(EventKind.choices).get(self.event_kind, self.event_kind))

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class AlertOrigin(OrgScoped):
    """What a traceback of an alerted campaign found after the alert went out (the traceback
    completed event, tracebacks.events), so the agency sees the origin beside the alert's
    evidence snapshot. One row per alert and traceback: a traceback that a late answer
    reopens and completes again updates its row."""

    scope_field = "alert__agency"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="origins")
    traceback = models.ForeignKey("tracebacks.Traceback", on_delete=models.CASCADE, related_name="+")
    traceback_ref = models.CharField(max_length=20)
    outcome = models.CharField(max_length=30)
    outcome_label = models.CharField(max_length=100)
    originating_provider = models.CharField(max_length=200, blank=True)
    originating_customer = models.CharField(max_length=200, blank=True, help_text="The customer's name as the originating provider gave it")
    point_of_entry_provider = models.CharField(max_length=200, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-completed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["alert", "traceback"], name="alertorigin_once_per_traceback")]

    def __str__(self) -> str:
        return f"{self.traceback_ref} for alert {self.alert_id}"
