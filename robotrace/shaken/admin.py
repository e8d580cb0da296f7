from __future__ import annotations

from django.contrib import admin

from robotrace.shaken.models import ShakenVerification, SpcDirectory


@admin.register(ShakenVerification)
class ShakenVerificationAdmin(admin.ModelAdmin):
    list_display = ("report_id", "call_started_at", "outcome", "sip_code", "attest", "signer_spc", "signer_provider")
    list_filter = ("outcome", "attest", "sip_code")
    search_fields = ("signer_spc", "origid", "report_id")
    raw_id_fields = ("signer_provider", "reporter")


@admin.register(SpcDirectory)
class SpcDirectoryAdmin(admin.ModelAdmin):
    list_display = ("spc", "spc_as_listed", "provider")
    search_fields = ("spc",)
    raw_id_fields = ("provider",)
