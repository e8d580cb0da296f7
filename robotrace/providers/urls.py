from __future__ import annotations

from django.urls import path

from robotrace.providers import views

app_name = "providers"

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("new/", views.provider_create, name="create"),
    path("<int:pk>/", views.provider_detail, name="detail"),
    path("<int:pk>/edit/", views.provider_edit, name="edit"),
    path("<int:pk>/merge/", views.provider_merge, name="merge"),
    path("<int:pk>/scorecard/", views.provider_scorecard, name="scorecard"),
    path("<int:pk>/scorecard.csv", views.scorecard_csv, name="scorecard_csv"),
    path("<int:pk>/notice-history.pdf", views.notice_letter, name="notice_letter"),
    path("scorecard/", views.my_scorecard, name="my_scorecard"),
    path("webhook/", views.hop_webhook, name="hop_webhook"),
    path("webhook/<slug:action>/", views.hop_webhook_action, name="hop_webhook_action"),
    path("noncooperative/", views.noncooperative, name="noncooperative"),
    path("report.<str:fmt>", views.report, name="report"),
    path("flags/<int:flag_id>/dispute/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("refresh/", views.refresh, name="refresh"),
]
