"""Agency access: public request, pending until a consortium admin verifies by call-back."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from robotrace.accounts.adapters import PENDING
from robotrace.accounts.models import Organisation, User
from robotrace.accounts.tests.conftest import post_password, signed_in
from robotrace.audit.models import AuditEvent

PASS = "gravel orchid kettle umbra"


def _request(client: Client, **over):
    data = {
        "first_name": "Nia", "last_name": "Reyes", "email": "nia@ga-ag.example", "title": "Investigator",
        "badge_number": "4471", "phone": "404-555-0142", "agency": "", "new_agency_name": "Georgia Attorney General",
        "new_agency_level": "state", "new_agency_states": "GA", "new_agency_phone": "404-651-8600",
        "password1": PASS, "password2": PASS, "attest": "on",
    }
    data.update(over)
    return client.post(reverse("accounts:agency_request"), data)


def test_a_request_for_a_new_agency_creates_pending_rows(world, client):
    r = _request(client)
    assert r.status_code == 302 and r["Location"] == reverse("accounts:agency_request_sent")
    user = User.objects.get(email="nia@ga-ag.example")
    assert user.approval == User.Approval.PENDING
    assert user.organisation.status == Organisation.Status.PENDING
    assert user.organisation.main_phone == "+14046518600" and user.organisation.jurisdiction == ["GA"]
    assert AuditEvent.objects.filter(action="user.access_requested", object_id=str(user.pk)).exists()


def test_a_request_for_an_existing_agency(world, client):
    r = _request(client, agency=str(world.agency_a.pk), new_agency_name="", new_agency_phone="", new_agency_level="")
    assert r.status_code == 302
    assert User.objects.get(email="nia@ga-ag.example").organisation == world.agency_a


def test_bad_requests_are_explained_and_write_nothing(world, client):
    before = (User.objects.count(), Organisation.objects.count())
    r = _request(client, new_agency_states="GA, XX")
    assert r.status_code == 400 and "XX" in r.content.decode()
    r = _request(client, password2="something else entirely")
    assert r.status_code == 400 and "differ" in r.content.decode()
    r = _request(client, password1="short", password2="short")
    assert r.status_code == 400 and "at least 15" in r.content.decode()
    r = _request(client, email=world.dana.email)
    assert r.status_code == 400 and "already exists" in r.content.decode()
    r = _request(client, new_agency_phone="")
    assert r.status_code == 400 and "main number" in r.content.decode()
    r = _request(client, attest="")
    assert r.status_code == 400
    r = _request(client, agency=str(world.provider_a.pk))  # not an agency: not even offered
    assert r.status_code == 400
    assert (User.objects.count(), Organisation.objects.count()) == before


def test_a_pending_requester_cannot_sign_in_and_is_told_why(world, client):
    _request(client)
    c = Client()
    r = post_password(c, "nia@ga-ag.example", PASS)
    assert r.status_code == 200
    assert not signed_in(c)
    assert escape(PENDING) in r.content.decode()


def test_it_appears_in_the_queue_and_an_admin_approves_with_the_call_back_recorded(world, client, as_user):
    _request(client)
    user = User.objects.get(email="nia@ga-ag.example")
    admin = as_user(world.alice)
    assert "nia@ga-ag.example" in admin.get(reverse("accounts:approvals")).content.decode()
    assert admin.get(reverse("accounts:approval_decide", args=[user.pk])).status_code == 200
    # notes are required
    r = admin.post(reverse("accounts:approval_decide", args=[user.pk]), {"decision": "approve", "method": "callback", "notes": ""})
    assert r.status_code == 400
    notes = "Called +1 404-651-8600 at 10:12; Sgt. Lee (supervisor) confirmed Nia Reyes, badge 4471."
    r = admin.post(reverse("accounts:approval_decide", args=[user.pk]), {"decision": "approve", "method": "callback", "notes": notes})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.approval == User.Approval.APPROVED
    assert (user.verification_method, user.verification_notes, user.verified_by) == ("callback", notes, world.alice)
    assert user.organisation.status == Organisation.Status.ACTIVE
    assert AuditEvent.objects.filter(action="user.approved", object_id=str(user.pk), data__method="callback").exists()
    # now the password works, and the agency user is sent to enrol an authenticator
    c = Client()
    post_password(c, user.email, PASS)
    assert signed_in(c)
    assert c.get("/")["Location"] == reverse("mfa_activate_totp")


def test_an_admin_rejects_a_request(world, client, as_user):
    _request(client)
    user = User.objects.get(email="nia@ga-ag.example")
    r = as_user(world.alice).post(reverse("accounts:approval_decide", args=[user.pk]),
                                  {"decision": "reject", "notes": "Agency switchboard has no such investigator."})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.approval == User.Approval.REJECTED and not user.is_active
    assert user.organisation.status == Organisation.Status.SUSPENDED
    c = Client()
    post_password(c, user.email, PASS)
    assert not signed_in(c)
    # a decided request is gone from the queue
    assert as_user(world.alice).get(reverse("accounts:approval_decide", args=[user.pk])).status_code == 404


def test_only_consortium_admins_decide(world, client, as_user):
    _request(client)
    user = User.objects.get(email="nia@ga-ag.example")
    for persona in (world.carol, world.dana, world.omar, world.pat, world.rita):
        c = as_user(persona)
        assert c.get(reverse("accounts:approvals")).status_code == 403
        r = c.post(reverse("accounts:approval_decide", args=[user.pk]), {"decision": "approve", "method": "callback", "notes": "x"})
        assert r.status_code == 403
    user.refresh_from_db()
    assert user.approval == User.Approval.PENDING


def test_a_signed_in_person_is_sent_home_from_the_request_page(world, as_user):
    assert as_user(world.pat).get(reverse("accounts:agency_request")).status_code == 302


def test_the_public_form_is_rate_limited_per_address(world, client):
    from django.core.cache import cache

    cache.clear()
    for i in range(5):
        assert _request(client, email=f"officer{i}@ga-ag.example", new_agency_name=f"Georgia Unit {i}").status_code == 302
    r = _request(client, email="officer9@ga-ag.example", new_agency_name="Georgia Unit 9")
    assert r.status_code == 429
    assert not User.objects.filter(email="officer9@ga-ag.example").exists()
    cache.clear()


def test_approval_errors_sit_next_to_the_fields(world, client, as_user):
    _request(client)
    user = User.objects.get(email="nia@ga-ag.example")
    r = as_user(world.alice).post(reverse("accounts:approval_decide", args=[user.pk]), {"decision": "approve", "method": "", "notes": "called"})
    assert r.status_code == 400
    assert "choose how the requester was verified" in r.content.decode()
