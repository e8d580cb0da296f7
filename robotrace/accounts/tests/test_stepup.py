"""S5: role changes need a fresh re-authentication; the suspended request then resumes."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from robotrace.accounts.stepup import recently_authenticated, require_recent_login  # noqa: F401
from robotrace.audit.models import AuditEvent
from robotrace.conftest import PASSWORD


def _age_authentication(client: Client, seconds: int = 3600) -> None:
    session = client.session
    records = session.get("account_authentication_methods", [])
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()


def test_a_fresh_sign_in_counts_as_recent(world, as_user):
    c = as_user(world.alice)
    r = c.post(reverse("accounts:user_role", args=[world.pat.pk]), {"role": "member"})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:org_detail", args=[world.provider_a.pk])
    world.pat.refresh_from_db()
    assert world.pat.role == "member"
    assert AuditEvent.objects.filter(action="user.role_changed", object_id=str(world.pat.pk), data__to="member").exists()


def test_an_old_sign_in_must_re_authenticate_before_a_role_change(world, as_user):
    c = as_user(world.alice)
    _age_authentication(c)
    url = reverse("accounts:user_role", args=[world.pat.pk])
    r = c.post(url, {"role": "read_only"})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("account_reauthenticate"))
    world.pat.refresh_from_db()
    assert world.pat.role == "admin"  # nothing happened yet
    # a wrong password does not resume it
    r = c.post(r["Location"], {"password": "wrong-password-for-sure-123"})
    world.pat.refresh_from_db()
    assert world.pat.role == "admin"
    # the right one resumes the suspended POST
    r = c.post(reverse("account_reauthenticate") + f"?next={url}", {"password": PASSWORD})
    world.pat.refresh_from_db()
    assert world.pat.role == "read_only"


def test_role_changes_refuse_unknown_roles_and_self_demotion(world, as_user):
    c = as_user(world.alice)
    c.post(reverse("accounts:user_role", args=[world.pat.pk]), {"role": "superuser"})
    c.post(reverse("accounts:user_role", args=[world.alice.pk]), {"role": "member"})
    world.pat.refresh_from_db()
    world.alice.refresh_from_db()
    assert world.pat.role == "admin" and world.alice.role == "admin"


def test_the_decorator_can_let_get_through(rf, world):
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse

    @require_recent_login(allow_get=True)
    def view(request):
        return HttpResponse("ok")

    request = rf.get("/")
    request.user = world.alice
    request.session = SessionStore()
    assert view(request).status_code == 200
