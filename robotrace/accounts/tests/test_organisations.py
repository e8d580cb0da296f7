"""Organisations of every kind with their own fields; bad input gets a clear error, never a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from robotrace.accounts import services as accounts
from robotrace.accounts.models import Organisation
from robotrace.audit.models import AuditEvent


def _post(client, **data):
    return client.post(reverse("accounts:org_create"), data)


def test_it_creates_a_provider_with_its_fields(world, as_user):
    r = _post(as_user(world.alice), name="Cedar Telecom", kind="provider", frn="0031234567", ocn="ce01", country="us",
              rmd_number="RMD0001234", spc="ce01")
    assert r.status_code == 302
    org = Organisation.objects.get(name="Cedar Telecom")
    assert (org.frn, org.ocn, org.country, org.rmd_number, org.spc) == ("0031234567", "CE01", "US", "RMD0001234", "CE01")
    assert r["Location"] == reverse("accounts:org_detail", args=[org.pk])
    assert AuditEvent.objects.filter(action="organisation.created", object_id=str(org.pk), actor_user=world.alice).exists()


def test_it_creates_a_reporter_and_an_agency(world, as_user):
    c = as_user(world.alice)
    assert _post(c, name="Spam Sentinel", kind="reporter", reporter_type="honeypot").status_code == 302
    r = _post(c, name="Georgia AG", kind="agency", agency_level="state", jurisdiction="ga, sc", main_phone="(404) 651-8600")
    assert r.status_code == 302
    ag = Organisation.objects.get(name="Georgia AG")
    assert ag.jurisdiction == ["GA", "SC"]
    assert ag.main_phone == "+14046518600"


def test_an_unknown_kind_is_a_form_error(world, as_user):
    r = _post(as_user(world.alice), name="Mystery", kind="hacker")
    assert r.status_code == 400
    assert "not one of the available choices" in r.content.decode()
    assert not Organisation.objects.filter(name="Mystery").exists()


def test_an_unknown_kind_is_a_service_error(world):
    with pytest.raises(ValidationError) as exc:
        accounts.create_organisation(actor=None, name="Mystery", kind="hacker")
    assert "unknown organisation kind 'hacker'" in exc.value.message_dict["kind"][0]


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"kind": "agency", "agency_level": "state", "jurisdiction": "NC, ZZ", "main_phone": "+19195550100"}, "jurisdiction", "ZZ"),
        ({"kind": "agency", "agency_level": "county", "jurisdiction": "NC"}, "agency_level", "not one of the available choices"),
        ({"kind": "agency", "agency_level": "state", "jurisdiction": ""}, "jurisdiction", "at least one state"),
        ({"kind": "agency", "agency_level": "federal", "main_phone": "12"}, "main_phone", "phone"),
        ({"kind": "provider", "frn": "12AB"}, "frn", "10 digits"),
        ({"kind": "provider", "country": "USA"}, "country", "at most 2 characters"),
        ({"kind": "provider", "country": "1A"}, "country", "two-letter"),
        ({"kind": "reporter", "reporter_type": ""}, "reporter_type", "reporter type"),
    ],
)
def test_bad_kind_fields_are_named(world, as_user, fields, field, words):
    r = _post(as_user(world.alice), name="Bad Input Org", **fields)
    assert r.status_code == 400, r.content[:300]
    body = r.content.decode()
    assert words in body
    assert not Organisation.objects.filter(name="Bad Input Org").exists()


def test_fields_of_another_kind_are_refused_by_the_service(world):
    with pytest.raises(ValidationError) as exc:
        accounts.create_organisation(actor=None, name="Odd", kind="reporter", reporter_type="honeypot", frn="0000000009")
    assert "does not apply" in exc.value.message_dict["frn"][0]
    with pytest.raises(ValidationError):
        accounts.create_organisation(actor=None, name="Odd", kind="reporter", reporter_type="honeypot", colour="red")


def test_duplicate_names_and_slugs_are_refused(world, as_user):
    c = as_user(world.alice)
    r = _post(c, name="Provider Alpha", kind="provider")
    assert r.status_code == 400 and "already exists" in r.content.decode()
    r = _post(c, name="Something Else", slug="provider-a", kind="provider")
    assert r.status_code == 400 and "already exists" in r.content.decode()


def test_duplicate_users_get_a_clear_error(world, as_user):
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(actor=None, organisation=world.provider_b, email="PAT@provider-a.test", password="gravel orchid kettle umbra")
    assert "already exists" in exc.value.message_dict["email"][0]
    r = as_user(world.alice).post(
        reverse("accounts:user_create", args=[world.provider_b.pk]),
        {"email": world.pat.email, "role": "member", "password": "gravel orchid kettle umbra"},
    )
    assert r.status_code == 400
    assert "already exists" in r.content.decode()


def test_an_admin_adds_a_person_and_it_is_audited(world, as_user):
    r = as_user(world.alice).post(
        reverse("accounts:user_create", args=[world.reporter_b.pk]),
        {"email": "new@reporter-b.test", "role": "read_only", "password": "gravel orchid kettle umbra", "phone": "919-555-0100"},
    )
    assert r.status_code == 302
    user = world.reporter_b.users.get(email="new@reporter-b.test")
    assert user.role == "read_only" and user.phone == "+19195550100"
    assert AuditEvent.objects.filter(action="user.created", object_id=str(user.pk), actor_user=world.alice).exists()


def test_the_admin_pages_render(world, as_user):
    c = as_user(world.alice)
    for name, args in [("accounts:admin_home", []), ("accounts:org_list", []), ("accounts:org_create", []),
                       ("accounts:org_detail", [world.agency_a.pk]), ("accounts:user_create", [world.agency_a.pk]),
                       ("accounts:approvals", [])]:
        r = c.get(reverse(name, args=args))
        assert r.status_code == 200, name
    r = c.get(reverse("accounts:org_list") + "?kind=agency")
    assert "Agency Alpha" in r.content.decode() and "Provider Alpha" not in r.content.decode()
    r = c.get(reverse("accounts:org_list") + "?kind=nonsense&page=abc")
    assert r.status_code == 200


def test_disable_and_enable_a_person(world, as_user):
    c = as_user(world.alice)
    c.post(reverse("accounts:user_active", args=[world.sam.pk]), {"active": "0"})
    world.sam.refresh_from_db()
    assert not world.sam.is_active
    c.post(reverse("accounts:user_active", args=[world.sam.pk]), {"active": "1"})
    world.sam.refresh_from_db()
    assert world.sam.is_active
    assert AuditEvent.objects.filter(action="user.disabled", object_id=str(world.sam.pk)).exists()
    assert AuditEvent.objects.filter(action="user.enabled", object_id=str(world.sam.pk)).exists()


def test_an_admin_cannot_disable_themself(world, as_user):
    as_user(world.alice).post(reverse("accounts:user_active", args=[world.alice.pk]), {"active": "0"})
    world.alice.refresh_from_db()
    assert world.alice.is_active
