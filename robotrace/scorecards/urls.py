"""Scorecard pages. robotrace/urls.py mounts them under /providers/ in the registry's URL
namespace ("providers:scorecard", ...), where they were before the scorecards app."""

from __future__ import annotations

from django.urls import path

from robotrace.scorecards import views

urlpatterns = [
    path("<int:pk>/scorecard/", views.provider_scorecard, name="scorecard"),
    path("<int:pk>/scorecard.csv", views.scorecard_csv, name="scorecard_csv"),
    path("<int:pk>/notice-history.pdf", views.notice_letter, name="notice_letter"),
    path("scorecard/", views.my_scorecard, name="my_scorecard"),
    path("noncooperative/", views.noncooperative, name="noncooperative"),
    path("report.<str:fmt>", views.report, name="report"),
    path("flags/<int:flag_id>/dispute/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("refresh/", views.refresh, name="refresh"),
]
