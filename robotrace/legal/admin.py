"""Read-mostly admin views for support staff; changes go through the services (audited)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from robotrace.legal.models import EvidencePackage, LegalRequest, PreservationHold, Production


@admin.register(LegalRequest)
class LegalRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "agency", "type", "case_number", "status", "due_state", "due_at", "assigned_to")
    list_filter = ("type", "status", "due_state")
    search_fields = ("case_number", "issuing_authority")
    readonly_fields = [f.name for f in LegalRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Production)
class ProductionAdmin(admin.ModelAdmin):
    list_display = ("id", "request", "created_at", "expires_at", "download_count", "purged_at")
    readonly_fields = [f.name for f in Production._meta.fields]


@admin.register(PreservationHold)
class PreservationHoldAdmin(admin.ModelAdmin):
    list_display = ("id", "agency", "kind", "object_key", "expires_at", "renewals", "released_at")
    readonly_fields = [f.name for f in PreservationHold._meta.fields]


@admin.register(EvidencePackage)
class EvidencePackageAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "status", "progress", "produced_to", "sha256")
    readonly_fields = [f.name for f in EvidencePackage._meta.fields]
