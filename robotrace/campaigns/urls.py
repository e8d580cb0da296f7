from __future__ import annotations

from django.urls import path

from robotrace.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("trends/", views.trends, name="trends"),
    path("ecosystem/", views.ecosystem_page, name="ecosystem"),
    path("ecosystem.json", views.ecosystem_json, name="ecosystem_json"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.campaign_action, name="action"),
]
