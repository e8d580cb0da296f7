from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "robotrace.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from robotrace.audit import receivers
        from robotrace.core import signals

        signals.access_denied.connect(receivers.access_denied, dispatch_uid="audit.access_denied")
        signals.secrets_resealed.connect(receivers.secrets_resealed, dispatch_uid="audit.secrets_resealed")
