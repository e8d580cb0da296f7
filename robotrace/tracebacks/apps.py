from __future__ import annotations

from django.apps import AppConfig


class TracebacksConfig(AppConfig):
    name = "robotrace.tracebacks"
    label = "tracebacks"
    verbose_name = "Tracebacks"

    def ready(self) -> None:
        from robotrace.core.navigation import register_home_panel
        from robotrace.outbox.services import register_endpoint
        from robotrace.tracebacks import automation, notifications, panels, receivers

        automation.SUBSCRIBER.connect()
        register_endpoint(notifications.ENDPOINT_KIND, notifications.provider_endpoint)
        from django.db.models.signals import post_delete, post_save

        for model in ("accounts.User", "accounts.Organisation"):
            post_save.connect(receivers.forget_contacts, sender=model, dispatch_uid=f"tracebacks.contacts.save.{model}")
            post_delete.connect(receivers.forget_contacts, sender=model, dispatch_uid=f"tracebacks.contacts.delete.{model}")
        register_home_panel(kinds=("consortium",), template="tracebacks/panel_consortium.html", context=panels.consortium_panel, order=20)
        register_home_panel(kinds=("provider",), template="tracebacks/panel_provider.html", context=panels.provider_panel, order=10)
        panels.register_campaign_extras()
