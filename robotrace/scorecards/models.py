"""Provider scorecards, the non-cooperative list (flags, their runs, disputes) and the
notices it sends providers. The tables kept the names they had when these models lived in
the providers app (moved without copying a row: migrations 0001 here, providers 0007)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from robotrace.core.scoping import OrgScoped
from robotrace.providers.choices import RmdStatus

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


class Period(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    ALL = "all", "All time"


class ProviderScorecard(OrgScoped):
    """Cooperation figures for one provider and period, recomputed in bulk (scorecards.py).

    A provider sees only its own rows; the consortium sees all.
    """

    scope_field = "provider__organisation"

    # The unique (provider, period, period_key) index serves lookups by provider; a second
    # index on provider alone only slowed the bulk rewrite. No database-level foreign key
    # either: the whole table is rewritten from the current registry on every run (ids read
    # in the same computation), and checking 68k references at each commit cost more than
    # the rows themselves. Deleting a provider still deletes its rows (Django's cascade).
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="scorecards", db_index=False, db_constraint=False
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    # "2026-11" for a month, "2026-Q4" for a quarter, "all" for all time.
    period_key = models.CharField(max_length=8)
    period_start = models.DateField(null=True, blank=True)

    notices = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_on_time = models.PositiveIntegerField(default=0)
    answered_late = models.PositiveIntegerField(default=0)
    never_answered = models.PositiveIntegerField(default=0)
    open_notices = models.PositiveIntegerField(default=0)
    no_record = models.PositiveIntegerField(default=0)
    median_answer_seconds = models.FloatField(null=True, blank=True)
    originating_illegal = models.PositiveIntegerField(default=0)
    originating_traced = models.PositiveIntegerField(default=0, help_text="Originating provider on any traceback")
    originating_campaign_ids = models.JSONField(default=list, blank=True)
    point_of_entry_illegal = models.PositiveIntegerField(default=0)
    point_of_entry_traced = models.PositiveIntegerField(default=0, help_text="US point of entry on any traceback")
    point_of_entry_campaign_ids = models.JSONField(default=list, blank=True)
    chain_stopped = models.PositiveIntegerField(default=0, help_text="Tracebacks that stopped at this provider")
    customers_warned = models.PositiveIntegerField(default=0)
    customers_terminated = models.PositiveIntegerField(default=0)
    attestation = models.JSONField(default=dict, blank=True, help_text="A/B/C counts on traced calls it signed")
    rmd_status = models.CharField(max_length=12, choices=RmdStatus.choices, default=RmdStatus.UNKNOWN)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "providers_providerscorecard"
        ordering = ["provider", "period", "period_key"]
        constraints = [models.UniqueConstraint(fields=["provider", "period", "period_key"], name="scorecard_once_per_period")]
        indexes = [models.Index(fields=["period", "period_key"], name="scorecard_period_idx")]

    def _share(self, n: int) -> float | None:
        return round(100.0 * n / self.notices, 1) if self.notices else None

    @property
    def answered_share(self) -> float | None:
        return self._share(self.answered)

    @property
    def on_time_share(self) -> float | None:
        return self._share(self.answered_on_time)

    @property
    def late_share(self) -> float | None:
        return self._share(self.answered_late)

    @property
    def never_share(self) -> float | None:
        return self._share(self.never_answered)

    @property
    def no_record_share(self) -> float | None:
        return round(100.0 * self.no_record / self.answered, 1) if self.answered else None

    @property
    def median_answer_hours(self) -> float | None:
        return round(self.median_answer_seconds / 3600, 2) if self.median_answer_seconds is not None else None


class ProviderFlag(OrgScoped):
    """A provider meets a non-cooperation rule (criteria.py). One row per provider and rule,
    kept when it stops being met (inactive) so the first-flagged date and trend survive."""

    class Rule(models.TextChoices):
        NON_PARTICIPATION = "non_participation", "Does not participate in traceback"
        NON_RESPONSIVE = "non_responsive", "Non-responsive to traceback notices"
        ORIGINATES_ILLEGAL = "originates_illegal", "Repeatedly originates illegal campaigns"
        FOREIGN_GATEWAY = "foreign_gateway", "Repeatedly the US point of entry for foreign illegal traffic"
        NO_RECORDS = "no_records", "Repeatedly fails to provide records"
        RMD_ABSENT = "rmd_absent", "Not in the Robocall Mitigation Database, or removed"

    scope_field = "provider__organisation"

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="flags")
    rule = models.CharField(max_length=24, choices=Rule.choices)
    active = models.BooleanField(default=True, db_index=True)
    first_flagged_at = models.DateTimeField()
    flagged_at = models.DateTimeField(help_text="Start of the current (or last) flagged episode")
    last_evaluated_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    evidence_ids = models.JSONField(default=list, blank=True, help_text="Traceback ids behind the flag")
    evidence_count = models.PositiveIntegerField(default=0)
    # Evidence a staff member accepted a dispute against; only new evidence re-flags.
    dismissed_evidence_ids = models.JSONField(default=list, blank=True)
    history = models.JSONField(default=list, blank=True, help_text="[[date, evidence count], ...] per evaluation day")

    class Meta:
        db_table = "providers_providerflag"
        ordering = ["-active", "-flagged_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "rule"], name="flag_once_per_rule")]

    def __str__(self) -> str:
        return f"{self.provider} · {self.get_rule_display()}"

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        if org.is_agency:
            # Agencies see the published list and the evidence behind it.
            return Q(active=True)
        if org.is_provider:
            return Q(provider__organisation=org)
        return Q(pk__in=[])


class FlagRun(models.Model):
    """One evaluation of every rule over every provider: the list's trend over time."""

    at = models.DateTimeField(db_index=True)
    active_flags = models.PositiveIntegerField(default=0)
    flagged_providers = models.PositiveIntegerField(default=0)
    newly_flagged = models.PositiveIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    per_rule = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        db_table = "providers_flagrun"
        ordering = ["-at"]


class Dispute(OrgScoped):
    """A provider contests a flag; consortium staff uphold (flag withdrawn) or reject it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld (flag withdrawn)"
        REJECTED = "rejected", "Rejected (flag stands)"

    scope_field = "provider__organisation"

    flag = models.ForeignKey(ProviderFlag, on_delete=models.CASCADE, related_name="disputes")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="disputes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    reason = models.TextField()
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField()
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        db_table = "providers_dispute"
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on {self.flag}"


class ProviderNotice(OrgScoped):
    """An in-app notice to a provider (flagged, dispute resolved). E-mails carry only a link."""

    scope_field = "provider__organisation"

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="notices")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "providers_providernotice"
        ordering = ["-created_at"]
