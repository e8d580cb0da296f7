"""The deliveries pages: staff see everything, an organisation's admins their own
deliveries; another organisation's delivery answers 404, kinds and people without access 403."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from robotrace.audit.models import AuditEvent
from robotrace.outbox import services
from robotrace.outbox.models import Delivery
from robotrace.outbox.tests.conftest import KIND


@pytest.fixture
def rows(world, endpoints, receiver):
    hook_a = services.webhook(topic="hop.requested", organisation_id=world.provider_a.id, endpoint_kind=KIND, endpoint_id=1,
                              endpoint=endpoints.add(1, receiver.url), payload={"type": "hop.requested", "data": {"secret": "A-ONLY"}})
    mail_b = services.email(topic="hop.requested", organisation_id=world.provider_b.id, to=["quinn@provider-b.test"],
                            subject="B-ONLY request", body="link")
    staff = services.email(topic="hop.escalation", organisation_id=None, to=["alice@consortium.test"], subject="STAFF-ONLY", body="link")
    receiver.status = 500
    services.sweep()
    return SimpleNamespace(hook_a=hook_a, mail_b=mail_b, staff=staff)


def test_staff_see_every_delivery_and_its_attempts(world, as_user, rows):
    c = as_user(world.carol)  # an analyst, not an admin
    page = c.get("/deliveries/").content.decode()
    assert "hop.escalation" in page and "Provider Alpha" in page and "Provider Bravo" in page
    page = c.get(f"/deliveries/{rows.hook_a.pk}/").content.decode()
    assert "A-ONLY" in page and "HTTP 500" in page and "Failed, will retry" in page
    assert c.get("/deliveries/?status=failing").content.decode().count("/deliveries/") >= 1
    assert "STAFF-ONLY" in c.get(f"/deliveries/{rows.staff.pk}/").content.decode()


def test_an_organisations_admins_see_only_their_own(world, as_user, rows):
    pat = as_user(world.pat)
    page = pat.get("/deliveries/").content.decode()
    assert f"/deliveries/{rows.hook_a.pk}/" in page
    assert f"/deliveries/{rows.mail_b.pk}/" not in page and f"/deliveries/{rows.staff.pk}/" not in page
    assert "A-ONLY" in pat.get(f"/deliveries/{rows.hook_a.pk}/").content.decode()
    for other in (rows.mail_b, rows.staff):
        assert pat.get(f"/deliveries/{other.pk}/").status_code == 404
        assert pat.post(f"/deliveries/{other.pk}/retry").status_code == 404
    quinn = as_user(world.quinn)
    assert quinn.get(f"/deliveries/{rows.hook_a.pk}/").status_code == 404
    assert "B-ONLY" in quinn.get(f"/deliveries/{rows.mail_b.pk}/").content.decode()
    assert world.omar and as_user(world.omar).get(f"/deliveries/{rows.hook_a.pk}/").status_code == 404


def test_other_kinds_and_people_who_are_not_admins_are_refused(world, as_user, rows):
    from robotrace.conftest import make_user

    for user in (world.rita, make_user(world.provider_a, "member@provider-a.test", "member")):
        c = as_user(user)
        assert c.get("/deliveries/").status_code == 403
        assert c.get(f"/deliveries/{rows.hook_a.pk}/").status_code == 403
        assert c.post(f"/deliveries/{rows.hook_a.pk}/retry").status_code == 403
    assert any("admins" in e.data["reason"] for e in AuditEvent.objects.filter(action="access.denied"))


def test_retry_now_is_audited_and_attempts_at_once(world, as_user, rows, receiver):
    receiver.status = 204
    r = as_user(world.alice).post(f"/deliveries/{rows.hook_a.pk}/retry")
    assert r.status_code == 302 and r["Location"].endswith(f"/deliveries/{rows.hook_a.pk}/")
    d = Delivery.objects.for_org(world.consortium).get(pk=rows.hook_a.pk)
    assert (d.status, d.attempts) == ("delivered", 2)
    event = AuditEvent.objects.get(action="outbox.delivery_retry_requested", object_id=str(d.pk))
    assert event.actor_user_id == world.alice.pk


def test_the_recipients_admin_may_retry_their_own(world, as_user, rows, receiver):
    receiver.status = 204
    assert as_user(world.pat).post(f"/deliveries/{rows.hook_a.pk}/retry").status_code == 302
    assert Delivery.objects.for_org(world.provider_a).get(pk=rows.hook_a.pk).status == "delivered"


def test_the_navigation_links_the_page_for_staff_and_admins(world, as_user):
    assert 'href="/deliveries/"' in as_user(world.carol).get("/").content.decode()
    assert 'href="/deliveries/"' in as_user(world.dana).get("/").content.decode()
    assert 'href="/deliveries/"' not in as_user(world.rita).get("/").content.decode()
