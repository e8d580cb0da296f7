from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "robotrace.legal"
    label = "legal"
    verbose_name = "Legal requests"
