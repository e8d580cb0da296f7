from __future__ import annotations

from django.urls import path

from robotrace.ingest import views

app_name = "ingest"

urlpatterns = [
    path("", views.search, name="search"),
    path("intake/", views.intake, name="intake"),
    path("<int:pk>/", views.report_detail, name="report"),
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/rejects", views.upload_rejects, name="upload_rejects"),
]
