from __future__ import annotations

from django.db import models


class SimulatedCall(models.Model):
    """The truth about one simulated call that was reported: its whole path and origin, kept
    so tests, benchmarks and the live demo can check what the tracebacks found."""

    call_id = models.CharField(max_length=40, unique=True)
    source_report_id = models.CharField(max_length=128, blank=True, db_index=True)
    at = models.DateTimeField()
    calling_number = models.CharField(max_length=20)
    called_number = models.CharField(max_length=20)
    robocall = models.BooleanField(default=True)
    foreign = models.BooleanField(default=False)
    campaign_key = models.CharField(max_length=60, blank=True)
    path = models.JSONField(default=list, help_text="Provider registry ids, origin first")
    true_origin_id = models.BigIntegerField(help_text="Registry id of the originator, or of the US point of entry for foreign calls")
    customer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.call_id
