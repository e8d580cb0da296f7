from __future__ import annotations

from django.apps import AppConfig


class ShakenConfig(AppConfig):
    name = "robotrace.shaken"
    label = "shaken"
    verbose_name = "Call authentication (STIR/SHAKEN)"

    def ready(self) -> None:
        from robotrace.core.navigation import register_home_panel
        from robotrace.ingest.signals import reports_stored
        from robotrace.shaken import panels, receivers

        reports_stored.connect(receivers.on_reports_stored, dispatch_uid="shaken.verify_upload")
        register_home_panel(kinds=("consortium",), template="shaken/panel_consortium.html", context=panels.consortium_panel, order=40)
