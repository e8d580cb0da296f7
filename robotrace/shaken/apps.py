from django.apps import AppConfig


class ShakenConfig(AppConfig):
    name = "robotrace.shaken"
    label = "shaken"
    verbose_name = "Call authentication (STIR/SHAKEN)"
