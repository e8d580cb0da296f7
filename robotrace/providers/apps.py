from __future__ import annotations

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "robotrace.providers"
    label = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from robotrace.accounts.models import Organisation
        from robotrace.core.demo import register_seeder
        from robotrace.core.navigation import register_home_panel
        from robotrace.providers import panels, seed, signals

        post_save.connect(signals.organisation_saved, sender=Organisation, dispatch_uid="providers.link_organisation")
        register_home_panel(kinds=("consortium", "agency"), template="providers/panels/newly_flagged.html", context=panels.newly_flagged, order=40)
        register_home_panel(kinds=("provider",), template="providers/panels/my_scorecard.html", context=panels.my_scorecard, order=20)
        register_seeder(80, "providers", seed.seed)
