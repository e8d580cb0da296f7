from __future__ import annotations

from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "robotrace.scorecards"
    label = "scorecards"
    verbose_name = "Scorecards"

    def ready(self) -> None:
        from robotrace.core import pages
        from robotrace.core.demo import register_seeder
        from robotrace.core.navigation import register_home_panel
        from robotrace.providers import cli
        from robotrace.providers.signals import provider_merging
        from robotrace.scorecards import commands, panels, seed, services

        register_home_panel(kinds=("consortium", "agency"), template="providers/panels/newly_flagged.html", context=panels.newly_flagged, order=40)
        register_home_panel(kinds=("provider",), template="providers/panels/my_scorecard.html", context=panels.my_scorecard, order=20)
        register_seeder(82, "scorecards", seed.seed)
        pages.register("providers:detail", panels.registry_detail)
        pages.register("providers:list", panels.registry_list)
        provider_merging.connect(services.forget_merged_provider, dispatch_uid="scorecards.forget_merged_provider")
        cli.register_action("scorecards", "Recompute every provider scorecard now", commands.scorecards)
        cli.register_action("evaluate", "Recompute scorecards and evaluate the non-cooperation rules now", commands.evaluate)
