from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from robotrace.campaigns.choices import Category, EventKind, LegalBasis
from robotrace.core.scoping import OrgScoped

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

__all__ = ["Campaign", "CampaignChange", "CampaignEvent", "CampaignExemplar", "CampaignLink", "CampaignText", "Category", "EngineState", "LegalBasis"]


class Campaign(OrgScoped):
    """One calling operation: one script or recording, many caller IDs, days and providers.

    Consortium staff see every campaign; agencies see those their alerts and productions
    entitle them to (core/entitlements.py); providers and reporters see none here.
    """

    class Status(models.TextChoices):
        SUSPECTED = "suspected", "Suspected"
        CONFIRMED = "confirmed", "Confirmed illegal"
        CLOSED = "closed", "Closed"
        MERGED = "merged", "Merged"

    class CategorySource(models.TextChoices):
        RULES = "rules", "Rules"
        PROTOTYPE = "prototype", "Similarity to prototypes"
        ANALYST = "analyst", "Analyst"
        REPORTER = "reporter", "Reporter labels"

    name = models.CharField(max_length=200)
    name_is_auto = models.BooleanField(default=True, help_text="False once an analyst renamed it; the engine then keeps the name")
    category = models.CharField(max_length=40, choices=Category.choices, default=Category.UNKNOWN, db_index=True)
    category_source = models.CharField(max_length=12, choices=CategorySource.choices, default=CategorySource.RULES)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUSPECTED, db_index=True)
    legal_basis = models.JSONField(default=list, blank=True, help_text="LegalBasis values")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from")

    representative_transcript = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    report_count = models.PositiveIntegerField(default=0)
    caller_id_count = models.PositiveIntegerField(default=0)
    state_count = models.PositiveIntegerField(default=0)
    called_states = models.JSONField(default=list, blank=True, help_text="Distinct called states (kept incrementally)")

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"C-{self.pk} {self.name}"

    @property
    def ref(self) -> str:
        return f"C-{self.pk}"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        if org.is_agency:
            from robotrace.core.entitlements import ids_for_agency

            return Q(pk__in=ids_for_agency(cls._meta.label, org))
        return Q(pk__in=[])


class CampaignEvent(models.Model):
    """A campaign crossed a threshold. Durable, so subscribers (alerts, automatic
    tracebacks) can catch up after a crash; each subscriber records what it handled."""

    Kind = EventKind

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict, blank=True)
    handled_by = models.JSONField(default=list, blank=True, help_text="Subscriber names that processed it")
    # One row per crossing: "opened", "volume:1000", "states:10", "surge:2026-11-23", "confirmed".
    dedup_key = models.CharField(max_length=60, default="")

    class Meta:
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["campaign", "dedup_key"], name="campaignevent_once_per_crossing")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.dedup_key}"


class CampaignChange(models.Model):
    """Every change to a campaign's identity or labels: merges and splits are recorded here,
    never done by silently renumbering. `from_campaign`/`to_campaign` say what moved where."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        MERGE = "merge", "Merged"
        SPLIT = "split", "Split"
        RENAME = "rename", "Renamed"
        RECATEGORISE = "recategorise", "Recategorised"
        CONFIRM = "confirm", "Confirmed illegal"
        CLOSE = "close", "Closed"
        REOPEN = "reopen", "Reopened"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    from_campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes_from")
    to_campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes_to")
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, default="engine")
    at = models.DateTimeField(db_index=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class CampaignExemplar(models.Model):
    """A few representative renditions per campaign; the engine's near-duplicate index is
    rebuilt from these on start (MinHash LSH lives in memory only)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="exemplars")
    key = models.CharField(max_length=16, unique=True, help_text="Hash of the normalised text")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


class CampaignText(models.Model):
    """Exact-duplicate index: one row per distinct normalised transcript seen."""

    key = models.CharField(max_length=16, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False)


class CampaignLink(models.Model):
    """Strong links: a callback number, recording hash or caller ID tied to a campaign."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", "Callback number"
        RECORDING = "recording", "Recording hash"
        CALLER_ID = "caller_id", "Caller ID"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=80)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="campaignlink_unique")]


class EngineState(models.Model):
    """Singleton (id=1). `version` changes when merges or splits rewrite the index, telling
    every process holding an in-memory engine to rebuild it; `last_report_id` is the durable
    cursor of the catch-up sweep (every report with a smaller id has been considered, except
    in `open_gaps`)."""

    version = models.PositiveIntegerField(default=1)
    last_report_id = models.BigIntegerField(default=0)
    # On PostgreSQL concurrent uploads commit out of id order: ids the cursor passed that were
    # not visible yet, as [first, last, xid horizon, first seen (epoch s)]. Re-read every sweep
    # until every transaction that could still commit them has ended (store.settle_gaps).
    open_gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
