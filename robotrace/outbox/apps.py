from __future__ import annotations

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "robotrace.outbox"
    label = "outbox"
    verbose_name = "Outbox"
