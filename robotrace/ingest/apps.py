from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "robotrace.ingest"
    label = "ingest"
    verbose_name = "Call-report intake"
