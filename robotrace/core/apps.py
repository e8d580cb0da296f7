from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "robotrace.core"
    label = "core"
    verbose_name = "Platform core"
