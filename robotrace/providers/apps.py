from __future__ import annotations

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "robotrace.providers"
    label = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from robotrace.core.demo import register_seeder
        from robotrace.providers import seed, signals

        post_save.connect(signals.organisation_saved, sender="accounts.Organisation", dispatch_uid="providers.link_organisation")
        register_seeder(80, "providers", seed.seed)
