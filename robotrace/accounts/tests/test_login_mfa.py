"""Login through the real allauth pages: banner, password, TOTP; MFA is mandatory for
consortium and agency people (A1) and a TOTP code is accepted once (A7)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from robotrace.accounts import services as accounts
from robotrace.accounts.adapters import BANNER_REQUIRED
from robotrace.accounts.tests.conftest import COUNTER, full_login, post_password, signed_in
from robotrace.audit.models import AuditEvent
from robotrace.conftest import PASSWORD


def test_it_signs_a_consortium_admin_in_with_password_and_totp(world, fixed_totp):
    c = Client()
    r = post_password(c, world.alice.email)
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_authenticate"))
    assert not signed_in(c)  # the password alone is not a session
    r = c.post(reverse("mfa_authenticate"), {"code": fixed_totp()})
    assert r.status_code == 302
    assert signed_in(c)
    assert c.get(reverse("accounts:admin_home")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor_user=world.alice).exists()


def test_it_refuses_a_wrong_totp_code(world, fixed_totp):
    c = Client()
    r = full_login(c, world.dana.email, fixed_totp(COUNTER + 5))
    assert r.status_code == 200
    assert not signed_in(c)


def test_it_accepts_a_totp_code_only_once(world, fixed_totp):
    code = fixed_totp()
    first = Client()
    full_login(first, world.dana.email, code)
    assert signed_in(first)
    second = Client()
    r = full_login(second, world.dana.email, code)
    assert r.status_code == 200
    assert not signed_in(second)


def test_it_requires_the_banner_to_be_acknowledged(world):
    c = Client()
    r = post_password(c, world.pat.email, acknowledge=False)
    assert r.status_code == 200
    assert BANNER_REQUIRED in r.content.decode()
    assert not signed_in(c)
    # Not acknowledging is not a failed password: it does not count towards lockout.
    assert not AuditEvent.objects.filter(action="auth.login_failed").exists()


def test_the_login_page_shows_the_system_use_notice(client):
    body = client.get(reverse("account_login")).content.decode()
    assert "System-use notice" in body
    assert 'name="acknowledge_banner"' in body and "required" in body


def test_a_provider_signs_in_with_a_password_alone(world):
    c = Client()
    r = post_password(c, world.pat.email)
    assert r.status_code == 302
    assert signed_in(c)
    assert c.get(reverse("accounts:api_keys")).status_code == 200


@pytest.mark.parametrize("kind", ["consortium", "agency"])
def test_a_password_alone_never_reaches_a_page_beyond_enrolment(world, kind):
    org = world.consortium if kind == "consortium" else world.agency_a
    user = accounts.create_user(actor=None, organisation=org, email=f"new-{kind}@example.test", password=PASSWORD, role="admin")
    c = Client()
    r = post_password(c, user.email)
    assert r.status_code == 302
    assert signed_in(c)  # signed in, but confined to enrolment
    enrol = reverse("mfa_activate_totp")
    pages = ["/", reverse("accounts:admin_home"), reverse("accounts:api_keys"), reverse("audit:list"),
             reverse("accounts:org_list"), "/campaigns/", "/legal/", "/alerts/", "/providers/"]
    for path in pages:
        r = c.get(path)
        assert r.status_code == 302, path
        assert r["Location"] == enrol, path
    # the API refuses the session too
    r = c.get("/api/v1/me")
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    # enrolment itself is reachable
    assert c.get(enrol).status_code == 200


def test_an_enrolled_agency_user_passes_after_activating_totp(world, fixed_totp):
    from allauth.mfa.totp.internal.auth import TOTP

    user = accounts.create_user(actor=None, organisation=world.agency_a, email="enrol@agency-a.test", password=PASSWORD)
    c = Client()
    post_password(c, user.email)
    assert c.get("/")["Location"] == reverse("mfa_activate_totp")
    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    r = c.get(reverse("accounts:api_keys"))
    assert r.status_code == 403  # past enrolment; refused only because they are not an admin


def test_the_session_is_rotated_at_login(world, fixed_totp):
    c = Client()
    before = c.session.session_key  # an anonymous session that exists before login
    post_password(c, world.pat.email)
    assert signed_in(c)
    assert c.session.session_key != before
