"""Django's admin site cannot be used to skip the second factor."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from robotrace.accounts import services as accounts
from robotrace.accounts.tests.conftest import full_login
from robotrace.conftest import PASSWORD, make_user


def _staff(world):
    user = make_user(world.consortium, "ops@consortium.test", "admin")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_a_password_only_admin_site_login_does_not_reach_the_admin(world):
    staff = _staff(world)
    c = Client()
    r = c.post("/django-admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/django-admin/"})
    assert r.status_code == 302
    r = c.get("/django-admin/")
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("account_login")) and "ended=admin_mfa" in r["Location"]
    assert "_auth_user_id" not in c.session


def test_the_admin_site_opens_after_the_real_login_with_a_code(world, fixed_totp):
    staff = _staff(world)
    c = Client()
    full_login(c, staff.email, fixed_totp())
    assert c.get("/django-admin/").status_code == 200


def test_staff_without_an_authenticator_must_enrol_first(world):
    staff = accounts.create_user(actor=None, organisation=world.provider_a, email="staff@provider-a.test", password=PASSWORD)
    staff.is_staff = True
    staff.save()
    c = Client()
    c.post("/django-admin/login/", {"username": staff.email, "password": PASSWORD})
    assert c.get("/django-admin/")["Location"] == reverse("mfa_activate_totp")


# Every sign-in path, not only the admin site's pages: a session made by a form that asks for
# a password alone must not reach anything for a person who has a second factor.
def _password_only_session(world) -> Client:
    staff = _staff(world)
    c = Client()
    r = c.post("/django-admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/django-admin/"})
    assert r.status_code == 302 and "_auth_user_id" in c.session
    return c


def test_a_password_only_admin_login_does_not_reach_pages(world):
    c = _password_only_session(world)
    r = c.get("/")
    assert r.status_code == 302 and "ended=second_factor" in r["Location"]
    assert "_auth_user_id" not in c.session


def test_a_password_only_admin_login_does_not_reach_the_api(world):
    c = _password_only_session(world)
    r = c.get("/api/v1/tracebacks")
    assert r.status_code == 401
    assert "_auth_user_id" not in c.session


def test_a_password_only_admin_login_does_not_reach_legal_documents(world):
    c = _password_only_session(world)
    r = c.get("/legal/")
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))


def test_the_ended_session_is_audited(world):
    from robotrace.audit.models import AuditEvent

    c = _password_only_session(world)
    c.get("/")
    assert AuditEvent.objects.filter(action="auth.session_ended", data__reason="second_factor").exists()


def test_a_provider_person_who_enrolled_a_factor_is_held_to_it(world, fixed_totp):
    """Providers may sign in with a password alone until they add an authenticator; then never again."""
    from allauth.mfa.totp.internal.auth import TOTP

    from robotrace.conftest import TOTP_SECRET

    TOTP.activate(world.pat, TOTP_SECRET)
    world.pat.is_staff = True
    world.pat.save()
    c = Client()
    c.post("/django-admin/login/", {"username": world.pat.email, "password": PASSWORD})
    r = c.get("/tracebacks/hops/")
    assert r.status_code == 302 and "ended=second_factor" in r["Location"]
    c = Client()
    full_login(c, world.pat.email, fixed_totp())
    assert c.get("/").status_code == 200


def test_a_person_without_a_factor_signs_in_with_a_password(world):
    c = Client()
    r = c.post(reverse("account_login"), {"login": world.pat.email, "password": PASSWORD, "acknowledge_banner": "on"})
    assert r.status_code == 302
    assert c.get("/").status_code == 200


def test_enrolling_in_the_session_counts_as_the_second_factor(world, fixed_totp):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    user = accounts.create_user(actor=None, organisation=world.consortium, email="new@consortium.test", password=PASSWORD)
    c = Client()
    c.post(reverse("account_login"), {"login": user.email, "password": PASSWORD, "acknowledge_banner": "on"})
    assert c.get("/")["Location"] == reverse("mfa_activate_totp")
    c.get(reverse("mfa_activate_totp"))
    secret = c.session[SECRET_SESSION_KEY]
    r = c.post(reverse("mfa_activate_totp"), {"code": fixed_totp(secret=secret)})
    assert r.status_code == 302
    assert c.get("/").status_code == 200
