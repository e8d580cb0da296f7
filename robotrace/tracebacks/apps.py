from __future__ import annotations

from django.apps import AppConfig


class TracebacksConfig(AppConfig):
    name = "robotrace.tracebacks"
    label = "tracebacks"
    verbose_name = "Tracebacks"

    def ready(self) -> None:
        from robotrace.campaigns.signals import campaign_event_created
        from robotrace.core.navigation import register_home_panel
        from robotrace.tracebacks import panels, receivers

        campaign_event_created.connect(receivers.on_campaign_event, dispatch_uid="tracebacks.auto_open")
        register_home_panel(kinds=("consortium",), template="tracebacks/panel_consortium.html", context=panels.consortium_panel, order=20)
        register_home_panel(kinds=("provider",), template="tracebacks/panel_provider.html", context=panels.provider_panel, order=10)
