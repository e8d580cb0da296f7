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
