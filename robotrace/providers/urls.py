"""Registry pages. robotrace/urls.py mounts them under /providers/ in the "providers" URL
namespace, together with the scorecards app's pages."""

from __future__ import annotations

from django.urls import path

from robotrace.providers import views

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("new/", views.provider_create, name="create"),
    path("<int:pk>/", views.provider_detail, name="detail"),
    path("<int:pk>/edit/", views.provider_edit, name="edit"),
    path("<int:pk>/merge/", views.provider_merge, name="merge"),
    path("webhook/", views.hop_webhook, name="hop_webhook"),
    path("webhook/<slug:action>/", views.hop_webhook_action, name="hop_webhook_action"),
]
