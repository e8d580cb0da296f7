from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "robotrace.audit"
    label = "audit"
    verbose_name = "Audit trail"
