from django.apps import AppConfig


class TracebacksConfig(AppConfig):
    name = "robotrace.tracebacks"
    label = "tracebacks"
    verbose_name = "Tracebacks"
