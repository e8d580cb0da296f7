"""A6: five failures within 15 minutes lock an account until an admin releases it."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from robotrace.accounts.adapters import LOCKED, LOCKED_GENERIC
from robotrace.accounts.models import LoginFailure
from robotrace.accounts.tests.conftest import post_password, signed_in
from robotrace.audit.models import AuditEvent

WRONG = "not-the-right-passphrase-at-all"


def _fail(client: Client, email: str, times: int) -> None:
    for _ in range(times):
        r = post_password(client, email, WRONG)
        assert r.status_code == 200


def test_it_does_not_lock_after_four_failures(world):
    c = Client()
    _fail(c, world.pat.email, 4)
    world.pat.refresh_from_db()
    assert not world.pat.is_locked
    post_password(c, world.pat.email)
    assert signed_in(c)


def test_it_locks_after_five_failures_and_says_so(world):
    c = Client()
    _fail(c, world.pat.email, 4)
    r = post_password(c, world.pat.email, WRONG)
    world.pat.refresh_from_db()
    assert world.pat.is_locked
    assert escape(LOCKED_GENERIC) in r.content.decode()
    assert AuditEvent.objects.filter(action="user.locked", object_id=str(world.pat.pk)).exists()
    assert AuditEvent.objects.filter(action="auth.login_failed", actor_label=world.pat.email).count() == 5


def test_failures_older_than_the_window_do_not_count(world):
    old = timezone.now() - timedelta(minutes=16)
    LoginFailure.objects.bulk_create([LoginFailure(email=world.pat.email, at=old) for _ in range(4)])
    _fail(Client(), world.pat.email, 1)
    world.pat.refresh_from_db()
    assert not world.pat.is_locked


def test_a_success_resets_the_count(world):
    c = Client()
    _fail(c, world.pat.email, 4)
    post_password(c, world.pat.email)
    assert signed_in(c)
    _fail(Client(), world.pat.email, 1)
    world.pat.refresh_from_db()
    assert not world.pat.is_locked


def test_a_locked_user_cannot_sign_in_even_with_the_right_password(world):
    _fail(Client(), world.pat.email, 5)
    c = Client()
    r = post_password(c, world.pat.email)
    assert r.status_code == 200
    assert not signed_in(c)
    assert escape(LOCKED) in r.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_refused", data__reason="locked").exists()


def test_locking_ends_existing_sessions(world, as_user):
    c = as_user(world.pat)
    assert c.get(reverse("accounts:api_keys")).status_code == 200
    _fail(Client(), world.pat.email, 5)
    r = c.get(reverse("accounts:api_keys"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))


def test_an_admin_releases_a_locked_account_and_it_is_audited(world, as_user):
    _fail(Client(), world.pat.email, 5)
    admin = as_user(world.alice)
    home = admin.get(reverse("accounts:admin_home")).content.decode()
    assert world.pat.email in home  # listed among locked accounts
    r = admin.post(reverse("accounts:user_unlock", args=[world.pat.pk]))
    assert r.status_code == 302
    world.pat.refresh_from_db()
    assert not world.pat.is_locked
    assert AuditEvent.objects.filter(action="user.unlocked", object_id=str(world.pat.pk), actor_user=world.alice).exists()
    c = Client()
    post_password(c, world.pat.email)
    assert signed_in(c)


def test_only_a_consortium_admin_may_release_from_the_admin_area(world, as_user):
    _fail(Client(), world.quinn.email, 5)
    for persona in (world.carol, world.pat, world.rita, world.dana):
        assert as_user(persona).post(reverse("accounts:user_unlock", args=[world.quinn.pk])).status_code == 403
    world.quinn.refresh_from_db()
    assert world.quinn.is_locked


def test_unknown_addresses_are_told_nothing_more_than_known_ones(world):
    c = Client()
    _fail(c, "nobody@nowhere.test", 4)
    r = post_password(c, "nobody@nowhere.test", WRONG)
    assert escape(LOCKED_GENERIC) in r.content.decode()


# Wrong second-factor codes count toward the same lockout (#20 finding 7).
def test_wrong_authenticator_codes_lock_the_account(world, fixed_totp):
    from robotrace.accounts.tests.conftest import full_login

    c = Client()
    for _ in range(5):
        r = full_login(c, world.dana.email, "000000")
    world.dana.refresh_from_db()
    assert world.dana.is_locked
    assert AuditEvent.objects.filter(action="auth.second_factor_failed", actor_label=world.dana.email).count() == 5
    assert AuditEvent.objects.filter(action="user.locked", object_id=str(world.dana.pk)).exists()
    # Locked: even the right password and code no longer sign in.
    c = Client()
    full_login(c, world.dana.email, fixed_totp())
    assert not signed_in(c)
    assert r.status_code in (200, 302)


def test_a_locked_person_mid_login_cannot_finish_with_the_right_code(world, fixed_totp):
    c = Client()
    r = post_password(c, world.dana.email)
    assert r["Location"].startswith(reverse("mfa_authenticate"))
    for _ in range(5):
        c.post(reverse("mfa_authenticate"), {"code": "000000"})
    c.post(reverse("mfa_authenticate"), {"code": fixed_totp()})
    assert c.get("/").status_code == 302
    assert not signed_in(c)
