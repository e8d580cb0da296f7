from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "robotrace.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from robotrace.alerts import demo, services, views
        from robotrace.alerts.queries import alerted_campaign_ids
        from robotrace.core import entitlements
        from robotrace.core.demo import register_seeder
        from robotrace.core.navigation import register_home_panel
        from robotrace.outbox.services import register_endpoint

        register_endpoint(services.ENDPOINT_KIND, services.endpoint_for)
        # Campaign events raise alerts; completed tracebacks give them their origin.
        services.CAMPAIGN_SUBSCRIBER.connect()
        services.TRACEBACK_SUBSCRIBER.connect()
        # Agencies may open the campaigns they were alerted to.
        entitlements.register("campaigns.Campaign", alerted_campaign_ids)
        register_home_panel(kinds=("agency",), template="alerts/_home_panel.html", context=views.home_panel, order=10)
        register_home_panel(kinds=("consortium",), template="alerts/_home_panel_consortium.html", context=views.home_panel_consortium, order=60)
        # Before the campaigns seeder (40), so its campaign events find the subscriptions.
        register_seeder(35, "alerts", demo.seed)
        register_seeder(95, "alerts-evaluate", demo.evaluate)
