from __future__ import annotations

from django.urls import path

from robotrace.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:alert_id>/", views.alert_detail, name="detail"),
    path("<int:alert_id>/read", views.alert_read, name="read"),
    path("read-all", views.alert_read_all, name="read_all"),
    path("deliveries/<int:delivery_id>/retry", views.delivery_retry, name="delivery_retry"),
    path("campaigns/<int:campaign_id>/", views.campaign_view, name="campaign"),
    path("export.stix.json", views.export_stix, name="export_stix"),
    path("stix/x-robotrace-phone-number.schema.json", views.stix_schema, name="stix_schema"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/new", views.subscription_new, name="subscription_new"),
    path("subscriptions/<int:subscription_id>/edit", views.subscription_edit, name="subscription_edit"),
    path("subscriptions/<int:subscription_id>/delete", views.subscription_delete, name="subscription_delete"),
    path("webhooks/new", views.webhook_new, name="webhook_new"),
    path("webhooks/<int:endpoint_id>/rotate", views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:endpoint_id>/toggle", views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:endpoint_id>/test", views.webhook_ping, name="webhook_ping"),
    path("webhooks/<int:endpoint_id>/delete", views.webhook_delete, name="webhook_delete"),
]
