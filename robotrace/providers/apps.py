from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "robotrace.providers"
    label = "providers"
    verbose_name = "Providers"
