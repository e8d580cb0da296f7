from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "robotrace.alerts"
    label = "alerts"
    verbose_name = "Alerts"
