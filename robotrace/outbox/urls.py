from __future__ import annotations

from django.urls import path

from robotrace.outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.delivery_list, name="list"),
    path("<int:delivery_id>/", views.delivery_detail, name="detail"),
    path("<int:delivery_id>/retry", views.delivery_retry, name="retry"),
]
