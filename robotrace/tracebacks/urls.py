from __future__ import annotations

from django.urls import path

from robotrace.tracebacks import views

app_name = "tracebacks"

urlpatterns = [
    path("", views.board, name="board"),
    path("<int:pk>/", views.detail, name="detail"),
    path("open/", views.open_manual, name="open"),
    path("open/report/", views.open_from_report, name="open_from_report"),
    path("open/campaign/<int:campaign_id>/", views.open_from_campaign, name="open_from_campaign"),
    path("open/forward/", views.open_forward, name="open_forward"),
    path("inbox/", views.inbox, name="inbox"),
    path("hops/<int:pk>/respond/", views.respond, name="respond"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("requests/", views.agency_requests, name="requests"),
    path("requests/<int:pk>/decide/", views.decide_request, name="decide_request"),
]
