"""Vocabularies of the registry that apps above keep in their own columns (a scorecard
stores the provider's RMD status as of its computation)."""

from __future__ import annotations

from django.db import models


class RmdStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    LISTED = "listed", "Listed"
    NOT_LISTED = "not_listed", "Not listed"
    REMOVED = "removed", "Removed"
