from django.apps import AppConfig


class BenchConfig(AppConfig):
    # An app only so that `robotrace bench` is a management command; it has no models.
    name = "robotrace.bench"
    label = "bench"
    verbose_name = "Benchmarks"
