from __future__ import annotations

from django.urls import path

from robotrace.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("verify", views.verify, name="verify"),
    path("export.csv", views.export_csv, name="export"),
]
