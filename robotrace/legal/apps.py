from __future__ import annotations

from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "robotrace.legal"
    label = "legal"
    verbose_name = "Legal requests"

    def ready(self) -> None:
        from robotrace.core import entitlements, pages
        from robotrace.core.demo import register_seeder
        from robotrace.core.navigation import register_home_panel
        from robotrace.legal import panels, queries
        from robotrace.legal.demo import seed_demo

        # Agencies may open the campaigns and tracebacks produced to them.
        entitlements.register("campaigns.Campaign", queries.campaign_ids_produced_to)
        entitlements.register("tracebacks.Traceback", queries.traceback_ids_produced_to)
        register_seeder(60, "legal", seed_demo)
        register_home_panel(kinds=("consortium",), template="legal/panel_queue.html", context=panels.queue_panel, order=40)
        register_home_panel(kinds=("agency",), template="legal/panel_agency.html", context=panels.agency_panel, order=20)
        pages.register("campaigns:detail", panels.campaign_page)
