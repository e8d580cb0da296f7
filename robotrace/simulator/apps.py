from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "robotrace.simulator"
    label = "simulator"
    verbose_name = "Simulated ecosystem"
