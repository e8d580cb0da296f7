from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "robotrace.simulator"
    label = "simulator"
    verbose_name = "Simulated ecosystem"

    def ready(self) -> None:
        from robotrace.simulator import demo

        demo.register()
