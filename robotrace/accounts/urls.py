from __future__ import annotations

from django.urls import path

from robotrace.accounts import views

app_name = "accounts"

urlpatterns = [
    path("admin/", views.admin_home, name="admin_home"),
    path("admin/organisations/", views.org_list, name="org_list"),
    path("admin/organisations/new", views.org_create, name="org_create"),
    path("admin/organisations/<int:pk>/", views.org_detail, name="org_detail"),
    path("admin/organisations/<int:pk>/users/new", views.user_create, name="user_create"),
    path("admin/organisations/<int:pk>/keys/new", views.org_key_issue, name="org_key_issue"),
    path("admin/organisations/<int:pk>/keys/<int:key_id>/revoke", views.org_key_revoke, name="org_key_revoke"),
    path("admin/users/<int:pk>/role", views.user_action, {"action": "role"}, name="user_role"),
    path("admin/users/<int:pk>/active", views.user_action, {"action": "active"}, name="user_active"),
    path("admin/users/<int:pk>/end-sessions", views.user_action, {"action": "end-sessions"}, name="user_end_sessions"),
    path("admin/users/<int:pk>/unlock", views.user_action, {"action": "unlock"}, name="user_unlock"),
    path("admin/approvals/", views.approvals, name="approvals"),
    path("admin/approvals/<int:pk>/", views.approval_decide, name="approval_decide"),
    path("org/people/", views.people, name="people"),
    path("org/people/new", views.person_add, name="person_add"),
    path("org/people/<int:pk>/<slug:action>", views.person_action, name="person_action"),
    path("org/api-keys/", views.api_keys, name="api_keys"),
    path("org/api-keys/<int:key_id>/revoke", views.api_key_revoke, name="api_key_revoke"),
    path("join/agency", views.agency_request, name="agency_request"),
    path("join/agency/sent", views.agency_request_sent, name="agency_request_sent"),
]
