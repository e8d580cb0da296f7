from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from robotrace.core.scoping import OrgScoped

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


class Delivery(OrgScoped):
    """One message the platform must get to someone: a signed webhook POST or an e-mail,
    written in the transaction of the change that causes it, sent right after its commit and
    retried with backoff until delivered or given up. `organisation` is the recipient's, so
    its admins see their own deliveries; rows for platform staff have none (consortium only).

    `due_at` is when something next happens to the row: the next attempt (pending, retrying)
    or the end of the sender's lease (sending); empty once delivered or given up."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "E-mail"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Gave up"

    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    topic = models.CharField(max_length=40, help_text="hop.requested, alert.created, legal.notice...")
    # What the message is about (an audit-style reference: "tracebacks.hop", 123).
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Webhooks: the endpoint resolver (registered by the app that owns the address) and its
    # key, asked for the current address and secret before each retry; `url` as last sent.
    endpoint_kind = models.CharField(max_length=40, blank=True)
    endpoint_id = models.BigIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="E-mail addresses")
    # Webhooks: the JSON body. E-mails: {"subject": ..., "body": ...} (links only, no case data).
    payload = models.JSONField(default=dict)
    msg_id = models.CharField(max_length=64, unique=True, help_text="webhook-id: the same on every retry so receivers can drop repeats")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The sweeper's question: rows due for an attempt or past their lease.
            models.Index(fields=["status", "due_at"], name="outbox_due_idx"),
            models.Index(fields=["object_type", "object_id"], name="outbox_object_idx"),
            models.Index(fields=["organisation", "status"], name="outbox_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.channel} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DELIVERED, self.Status.GAVE_UP)

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.RETRYING, self.Status.GAVE_UP)


class Attempt(OrgScoped):
    """One attempt at a delivery, successful or not."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number", "id"]

    @classmethod
    def scope_q(cls, org: Organisation) -> Q:
        return Q(delivery__organisation=org)
