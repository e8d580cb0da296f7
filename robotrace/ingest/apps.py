from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "robotrace.ingest"
    label = "ingest"
    verbose_name = "Call-report intake"

    def ready(self) -> None:
        from robotrace.core.navigation import register_home_panel
        from robotrace.ingest import panels

        register_home_panel(kinds=("reporter",), template="ingest/panels/recent_uploads.html", context=panels.reporter_recent, order=10)
        register_home_panel(kinds=("consortium",), template="ingest/panels/intake.html", context=panels.consortium_intake, order=15)
