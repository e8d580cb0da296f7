from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from robotrace.providers.models import Provider, RmdImport, RmdSnapshot


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "frn", "spc", "country", "status", "rmd_status", "organisation")
    list_filter = ("status", "rmd_status", "country")
    search_fields = ("name", "frn", "spc")
    # Registry changes go through services (audited); the admin is for looking.
    readonly_fields = [f.name for f in Provider._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Provider | None = None) -> bool:
        return False


@admin.register(RmdImport)
class RmdImportAdmin(admin.ModelAdmin):
    list_display = ("seen_on", "file_name", "rows", "listed", "not_listed", "removed", "created_at")


admin.site.register(RmdSnapshot)
