from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.legal import services
from robotrace.legal.models import LegalRequest
from robotrace.legal.tests.conftest import file, fresh_login, stale_login

ALL = [s for s in LegalRequest.Status.values]


def _at(req, status):
    LegalRequest.objects.for_org(req.agency).filter(pk=req.pk).update(status=status)
    req.refresh_from_db()
    return req


DECISION_TO = {"accept": "accepted", "clarify": "clarification_needed", "narrow": "narrowed", "reject": "rejected"}


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("decision", sorted(DECISION_TO))
def test_it_allows_only_listed_review_transitions(world, start, decision):
    req = _at(file(world), start)
    target = DECISION_TO[decision]
    allowed = target in services.TRANSITIONS[start]
    if allowed:
        after = services.decide(actor=world.alice, organisation=world.consortium, request=req, decision=decision, note="scope note")
        assert after.status == target
        assert AuditEvent.objects.filter(action="legal.request.status", object_id=str(req.pk), data__to=target).exists()
    else:
        with pytest.raises(services.LegalError):
            services.decide(actor=world.alice, organisation=world.consortium, request=req, decision=decision, note="scope note")
        req.refresh_from_db()
        assert req.status == start


def test_it_refuses_transitions_out_of_closed_states(world):
    for closed in ("rejected", "withdrawn"):
        req = _at(file(world), closed)
        for decision in DECISION_TO:
            with pytest.raises(services.LegalError):
                services.decide(actor=world.alice, organisation=world.consortium, request=req, decision=decision, note="x")
        with pytest.raises(services.LegalError):
            services.withdraw(actor=world.dana, organisation=world.agency_a, request=req)


def test_it_requires_a_reason_to_reject_narrow_or_clarify(world):
    req = file(world)
    for decision in ("reject", "narrow", "clarify"):
        with pytest.raises(services.LegalError) as exc:
            services.decide(actor=world.alice, organisation=world.consortium, request=req, decision=decision, note="  ")
        assert exc.value.errors[0]["field"] == "note"


def test_it_walks_review_clarification_and_back_to_review_on_the_agencys_reply(world):
    req = file(world)
    services.assign(actor=world.alice, organisation=world.consortium, request=req, assignee=world.carol)
    req.refresh_from_db()
    assert req.status == "in_review" and req.assigned_to == world.carol
    services.decide(actor=world.carol, organisation=world.consortium, request=req, decision="clarify", note="Which date range?")
    mail.outbox.clear()
    services.post_message(actor=world.dana, organisation=world.agency_a, request=req, body="January 2026 only.")
    req.refresh_from_db()
    assert req.status == "in_review"


def test_it_emails_only_that_there_is_a_message(world, django_capture_on_commit_callbacks):
    req = file(world)
    services.assign(actor=world.alice, organisation=world.consortium, request=req, assignee=world.carol)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(actor=world.carol, organisation=world.consortium, request=req, body="SECRET-DETAIL the caller is Dialer LLC")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [world.dana.email]
    assert "SECRET-DETAIL" not in sent.body and "Dialer" not in sent.body and "SECRET" not in sent.subject
    assert reverse("legal:detail", args=[req.pk]) in sent.body


def test_it_narrows_per_target(world):
    req = file(world, targets=[{"kind": "phone", "value": "9195550142"}, {"kind": "phone", "value": "9195550143"}])
    t1, t2 = req.targets.order_by("id")
    services.decide(
        actor=world.alice, organisation=world.consortium, request=req, decision="narrow",
        note="The second number is outside the subpoena's scope.", target_decisions={t1.pk: "produce", t2.pk: "do_not_produce"},
    )
    t1.refresh_from_db()
    t2.refresh_from_db()
    assert (t1.decision, t2.decision) == ("produce", "do_not_produce")


def test_it_lets_only_staff_decide(world):
    req = file(world)
    for user in (world.dana, world.pat):
        with pytest.raises(services.NotAllowed):
            services.decide(actor=user, organisation=user.organisation, request=req, decision="accept")


def test_it_puts_emergencies_first_in_the_queue(world, as_user):
    normal = file(world, case_number="N-1", due_date=timezone.localdate() + timedelta(days=1))
    emergency = file(world, type="emergency", case_number="E-1", due_date=timezone.localdate() + timedelta(days=20))
    assert emergency.priority == LegalRequest.Priority.EMERGENCY
    from robotrace.legal import queries

    assert [r.pk for r in queries.queue(world.consortium)] == [emergency.pk, normal.pk]
    page = as_user(world.alice).get(reverse("legal:queue")).content.decode()
    assert page.index(emergency.ref) < page.index(normal.ref)


def test_it_needs_a_second_different_approver_for_an_emergency(world):
    req = file(world, type="emergency")
    after = services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept")
    assert after.status == "in_review" and after.first_approved_by == world.alice
    with pytest.raises(services.NotAllowed, match="different person"):
        services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept")
    req.refresh_from_db()
    assert req.status == "in_review" and req.second_approved_by is None
    assert AuditEvent.objects.filter(action="legal.emergency.second_approval", outcome="denied").exists()
    after = services.decide(actor=world.carol, organisation=world.consortium, request=req, decision="accept")
    assert after.status == "accepted" and after.second_approved_by == world.carol


def test_it_asks_for_a_fresh_login_before_an_emergency_approval(world, as_user):
    req = file(world, type="emergency")
    client = stale_login(as_user(world.alice))
    url = reverse("legal:decide", args=[req.pk])
    response = client.post(url, {"decision": "accept"})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    req.refresh_from_db()
    assert req.first_approved_by is None
    fresh_login(client)
    client.post(url, {"decision": "accept"})
    req.refresh_from_db()
    assert req.first_approved_by == world.alice
    # The same person again is refused, even with a fresh login.
    client.post(url, {"decision": "accept"})
    req.refresh_from_db()
    assert req.status == "in_review" and req.second_approved_by is None
    carol = stale_login(as_user(world.carol))
    assert "reauthenticate" in carol.post(url, {"decision": "accept"})["Location"]
    req.refresh_from_db()
    assert req.status == "in_review"
    fresh_login(carol)
    carol.post(url, {"decision": "accept"})
    req.refresh_from_db()
    assert req.status == "accepted"


def test_it_sweeps_due_soon_and_overdue_once(world):
    soon = file(world, case_number="S-1", due_date=timezone.localdate() + timedelta(days=1))
    late = file(world, case_number="L-1", due_date=timezone.localdate() + timedelta(days=1))
    LegalRequest.objects.for_org(world.agency_a).filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    far = file(world, case_number="F-1", due_date=timezone.localdate() + timedelta(days=30))
    counts = services.sweep_due()
    assert counts == {"overdue": 1, "due_soon": 1}
    states = dict(LegalRequest.objects.for_org(world.consortium).values_list("pk", "due_state"))
    assert states[soon.pk] == "due_soon" and states[late.pk] == "overdue" and states[far.pk] == ""
    assert services.sweep_due() == {"overdue": 0, "due_soon": 0}


def test_it_lets_the_agency_withdraw(world, as_user):
    req = file(world)
    as_user(world.dana).post(reverse("legal:withdraw", args=[req.pk]), {"reason": "case settled"})
    req.refresh_from_db()
    assert req.status == "withdrawn"
