from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "robotrace.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from robotrace.campaigns import panels, receivers
        from robotrace.ingest.signals import reports_stored

        reports_stored.connect(receivers.on_reports_stored, dispatch_uid="campaigns.on_reports_stored")
        panels.register()
