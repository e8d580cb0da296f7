from __future__ import annotations

from django.urls import path

from robotrace.shaken import views

app_name = "shaken"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("report/<int:report_id>/", views.detail, name="detail"),
    path("directory/", views.directory, name="directory"),
]
