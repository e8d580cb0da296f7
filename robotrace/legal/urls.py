from __future__ import annotations

from django.urls import path

from robotrace.legal import views

app_name = "legal"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("mine/", views.my_requests, name="my_requests"),
    path("new/", views.new_request, name="new"),
    path("stats/", views.stats, name="stats"),
    path("requests/<int:pk>/", views.detail, name="detail"),
    path("requests/<int:pk>/documents/<int:doc_id>/", views.document, name="document"),
    path("requests/<int:pk>/documents/", views.upload_document, name="upload_document"),
    path("requests/<int:pk>/messages/", views.message, name="message"),
    path("requests/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("requests/<int:pk>/assign/", views.assign, name="assign"),
    path("requests/<int:pk>/decide/", views.decide, name="decide"),
    path("requests/<int:pk>/produce/", views.produce, name="produce"),
    path("requests/<int:pk>/holds/<int:hold_id>/renew/", views.renew_hold, name="renew_hold"),
    path("requests/<int:pk>/holds/<int:hold_id>/release/", views.release_hold, name="release_hold"),
    path("productions/<int:pk>/", views.production, name="production"),
    path("productions/<int:pk>/download/", views.production_download, name="production_download"),
    path("evidence/", views.evidence_list, name="evidence_list"),
    path("evidence/new/", views.evidence_new, name="evidence_new"),
    path("evidence/<int:pk>/", views.evidence_detail, name="evidence_detail"),
    path("evidence/<int:pk>/progress/", views.evidence_progress, name="evidence_progress"),
    path("evidence/<int:pk>/retry/", views.evidence_retry, name="evidence_retry"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
]
