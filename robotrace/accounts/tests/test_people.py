"""An organisation's own admins manage its people (add, role, lock release, sessions,
disable); other organisations' people stay out of reach, and agency people still wait for
the consortium's verification."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from robotrace.accounts import queries
from robotrace.accounts import services as accounts
from robotrace.accounts.models import User
from robotrace.audit.models import AuditEvent
from robotrace.conftest import make_user

NEW_PERSON = {"email": "ada@provider-a.test", "role": "member", "first_name": "Ada", "password": "gravel orchid kettle umbra"}


def test_a_provider_admin_adds_a_colleague_and_manages_them(world, as_user):
    pat = as_user(world.pat)
    page = pat.get(reverse("accounts:people"))
    assert page.status_code == 200 and b"pat@provider-a.test" in page.content and b"quinn@" not in page.content
    r = pat.post(reverse("accounts:person_add"), NEW_PERSON)
    assert r.status_code == 302 and r["Location"] == reverse("accounts:people")
    ada = User.objects.get(email="ada@provider-a.test")
    assert ada.organisation == world.provider_a and ada.approval == "approved" and ada.role == "member"

    pat.post(reverse("accounts:person_action", args=[ada.pk, "role"]), {"role": "read_only"})
    pat.post(reverse("accounts:person_action", args=[ada.pk, "end-sessions"]))
    pat.post(reverse("accounts:person_action", args=[ada.pk, "active"]), {"active": "0"})
    ada.refresh_from_db()
    assert ada.role == "read_only" and not ada.is_active and ada.session_epoch >= 2
    actions = list(AuditEvent.objects.filter(object_id=str(ada.pk), actor_user=world.pat).values_list("action", flat=True))
    assert set(actions) == {"user.created", "user.role_changed", "user.sessions_ended", "user.disabled"}


def test_an_admin_releases_a_colleague_locked_by_failed_sign_ins(world, as_user):
    from robotrace.accounts.tests.test_lockout import _fail

    colleague = make_user(world.provider_a, "lee@provider-a.test", "member")
    _fail(Client(), colleague.email, 5)
    colleague.refresh_from_db()
    assert colleague.is_locked
    as_user(world.pat).post(reverse("accounts:person_action", args=[colleague.pk, "unlock"]))
    colleague.refresh_from_db()
    assert not colleague.is_locked


def test_another_organisations_people_are_out_of_reach(world, as_user):
    pat = as_user(world.pat)
    for action, data in (("role", {"role": "read_only"}), ("active", {"active": "0"}), ("end-sessions", {}), ("unlock", {})):
        assert pat.post(reverse("accounts:person_action", args=[world.quinn.pk, action]), data).status_code == 404
    assert pat.post(reverse("accounts:person_action", args=[world.pat.pk, "promote"])).status_code == 404
    world.quinn.refresh_from_db()
    assert world.quinn.role == "admin" and world.quinn.is_active and world.quinn.session_epoch == 0
    # and the consortium's admin area stays the consortium's
    assert pat.post(reverse("accounts:user_active", args=[world.quinn.pk]), {"active": "0"}).status_code == 403


def test_members_and_read_only_people_cannot_manage_people(world, as_user):
    member = as_user(make_user(world.provider_a, "mo@provider-a.test", "member"))
    assert member.get(reverse("accounts:people")).status_code == 403
    assert member.post(reverse("accounts:person_add"), NEW_PERSON).status_code == 403
    assert member.post(reverse("accounts:person_action", args=[world.pat.pk, "active"]), {"active": "0"}).status_code == 403
    assert not User.objects.filter(email=NEW_PERSON["email"]).exists()


def test_people_an_agency_admin_adds_wait_for_the_consortiums_verification(world, as_user):
    dana = as_user(world.dana)
    r = dana.post(reverse("accounts:person_add"), {**NEW_PERSON, "email": "ivy@agency-a.test"}, follow=True)
    assert b"the consortium verifies agency people" in r.content
    ivy = User.objects.get(email="ivy@agency-a.test")
    assert ivy.approval == "pending" and ivy.organisation == world.agency_a
    assert ivy in list(queries.pending_approvals())  # on the consortium's approvals page


def test_the_service_refuses_an_admin_adding_people_to_another_organisation(world):
    with pytest.raises(accounts.PermissionDenied):
        accounts.create_user(actor=world.pat, organisation=world.provider_b, email="x@provider-b.test", password=None)
    with pytest.raises(accounts.PermissionDenied):
        accounts.set_active(actor=world.pat, user=world.quinn, active=False)
    assert not User.objects.filter(email="x@provider-b.test").exists()
