"""S1–S3: idle timeout, absolute lifetime, server-side revocation, tampered cookies."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from robotrace.accounts import services as accounts
from robotrace.accounts.middleware import END_REASONS, SESSION_AUTH_AT, SESSION_LAST_SEEN
from robotrace.audit.models import AuditEvent

PAGE = "accounts:api_keys"


def _shift(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = session[key] - seconds
    session.save()


def _ended(r, reason: str) -> bool:
    return r.status_code == 302 and r["Location"].startswith(reverse("account_login")) and f"ended={reason}" in r["Location"]


def test_an_active_session_passes(world, as_user):
    c = as_user(world.pat)
    assert c.get(reverse(PAGE)).status_code == 200


def test_it_ends_a_session_idle_for_more_than_30_minutes(world, as_user):
    c = as_user(world.pat)
    _shift(c, SESSION_LAST_SEEN, 31 * 60)
    r = c.get(reverse(PAGE))
    assert _ended(r, "idle")
    assert "_auth_user_id" not in c.session
    # the login page says why, and the next request is anonymous
    page = c.get(r["Location"]).content.decode()
    assert END_REASONS["idle"] in page
    assert AuditEvent.objects.filter(action="auth.session_ended", data__reason="idle").exists()


def test_29_idle_minutes_are_fine(world, as_user):
    c = as_user(world.pat)
    _shift(c, SESSION_LAST_SEEN, 29 * 60)
    assert c.get(reverse(PAGE)).status_code == 200


def test_activity_keeps_the_session_alive(world, as_user):
    c = as_user(world.pat)
    _shift(c, SESSION_LAST_SEEN, 20 * 60)
    assert c.get(reverse(PAGE)).status_code == 200  # refreshes last-seen
    _shift(c, SESSION_LAST_SEEN, 20 * 60)
    assert c.get(reverse(PAGE)).status_code == 200


def test_it_ends_a_session_older_than_12_hours_even_if_active(world, as_user):
    c = as_user(world.pat)
    _shift(c, SESSION_AUTH_AT, 12 * 3600 + 5)
    assert _ended(c.get(reverse(PAGE)), "expired")


def test_disabling_a_user_ends_their_sessions(world, as_user):
    c = as_user(world.pat)
    accounts.set_active(actor=world.alice, user=world.pat, active=False)
    r = c.get(reverse(PAGE))
    # Django itself no longer resolves an inactive user from the session: straight to login.
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    world.pat.refresh_from_db()
    assert world.pat.session_epoch == 1


def test_a_role_change_ends_their_sessions(world, as_user):
    c = as_user(world.pat)
    accounts.set_role(actor=world.alice, user=world.pat, role="member")
    assert _ended(c.get(reverse(PAGE)), "revoked")


def test_an_admin_can_end_every_session_of_a_user(world, as_user):
    one, two = as_user(world.rita), as_user(world.rita)
    r = as_user(world.alice).post(reverse("accounts:user_end_sessions", args=[world.rita.pk]))
    assert r.status_code == 302
    assert _ended(one.get(reverse(PAGE)), "revoked")
    assert _ended(two.get(reverse(PAGE)), "revoked")


def test_a_session_without_our_stamps_is_not_trusted(world, as_user):
    c = as_user(world.pat)
    session = c.session
    del session[SESSION_AUTH_AT]
    session.save()
    assert _ended(c.get(reverse(PAGE)), "unverified")


def test_a_tampered_session_cookie_goes_to_login_not_500(world, as_user):
    c = as_user(world.pat)
    good = c.cookies[settings.SESSION_COOKIE_NAME].value
    for forged in (good[:-4] + "abcd", "x" * 200, "../../etc/passwd", "%00%ff", ""):
        c.cookies[settings.SESSION_COOKIE_NAME] = forged
        r = c.get(reverse(PAGE))
        assert r.status_code == 302, forged
        assert r["Location"].startswith(reverse("account_login"))
        assert c.get("/api/v1/me").status_code == 401


def test_unknown_end_reasons_show_nothing(client):
    body = client.get(reverse("account_login") + "?ended=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)</script>" not in body


def test_it_disables_accounts_idle_for_90_days(world, as_user):
    from datetime import timedelta

    from django.utils import timezone

    from robotrace.accounts.models import User

    now = timezone.now()
    User.objects.filter(pk=world.sam.pk).update(last_login=now - timedelta(days=91))
    User.objects.filter(pk=world.rita.pk).update(last_login=now - timedelta(days=89))
    User.objects.filter(pk=world.quinn.pk).update(last_login=None, date_joined=now - timedelta(days=120))
    c = as_user(world.sam)
    User.objects.filter(pk=world.sam.pk).update(last_login=now - timedelta(days=91))  # as_user just stamped it
    assert accounts.disable_idle_accounts(now=now) == 2
    assert accounts.disable_idle_accounts(now=now) == 0  # claimed once
    world.sam.refresh_from_db()
    world.rita.refresh_from_db()
    world.quinn.refresh_from_db()
    assert not world.sam.is_active and not world.quinn.is_active and world.rita.is_active
    assert AuditEvent.objects.filter(action="user.disabled_idle").count() == 2
    assert c.get(reverse(PAGE)).status_code == 302
