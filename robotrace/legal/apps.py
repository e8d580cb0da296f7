from __future__ import annotations

from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "robotrace.legal"
    label = "legal"
    verbose_name = "Legal requests"

    def ready(self) -> None:
        from robotrace.campaigns import entitlements as campaign_entitlements
        from robotrace.core import pages
        from robotrace.core.demo import register_seeder
        from robotrace.core.navigation import register_home_panel
        from robotrace.legal import panels, queries
        from robotrace.legal.demo import seed_demo
        from robotrace.tracebacks import entitlements as traceback_entitlements

        # Agencies may open the campaigns and tracebacks produced to them.
        campaign_entitlements.register(queries.campaign_ids_produced_to)
        traceback_entitlements.register(queries.traceback_ids_produced_to)
        register_seeder(60, "legal", seed_demo)
        register_home_panel(kinds=("consortium",), template="legal/panel_queue.html", context=panels.queue_panel, order=40)
        register_home_panel(kinds=("agency",), template="legal/panel_agency.html", context=panels.agency_panel, order=20)
        pages.register("campaigns:detail", panels.campaign_page)
