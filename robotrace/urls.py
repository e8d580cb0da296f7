from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from robotrace.api import api
from robotrace.core import csp
from robotrace.core import views as core_views
from robotrace.providers import urls as providers_urls
from robotrace.scorecards import urls as scorecards_urls

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("csp-report", csp.report, name="csp_report"),
    path("accounts/", include("allauth.urls")),
    path("", include("robotrace.accounts.urls")),
    path("audit/", include("robotrace.audit.urls")),
    path("reports/", include("robotrace.ingest.urls")),
    path("campaigns/", include("robotrace.campaigns.urls")),
    path("tracebacks/", include("robotrace.tracebacks.urls")),
    # Scorecard pages live under /providers/ beside the registry and share its URL names.
    path("providers/", include((providers_urls.urlpatterns + scorecards_urls.urlpatterns, "providers"))),
    path("shaken/", include("robotrace.shaken.urls")),
    path("legal/", include("robotrace.legal.urls")),
    path("alerts/", include("robotrace.alerts.urls")),
    path("deliveries/", include("robotrace.outbox.urls")),
    # Plain Django views on the API prefix come first: the ingest hot path skips Ninja.
    path("api/v1/", include("robotrace.ingest.api_urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]

handler403 = "robotrace.core.errors.forbidden"
handler404 = "robotrace.core.errors.not_found"
handler500 = "robotrace.core.errors.server_error"
