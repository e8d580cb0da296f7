from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from robotrace.tracebacks import conf, services, sweeper
from robotrace.tracebacks.models import Hop, Traceback, TracebackEvent
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_it_reminds_once_before_the_deadline(world, django_capture_on_commit_callbacks) -> None:
    make_net(world)
    t0 = timezone.now()
    tb = open_tb(world, now=t0)
    hop = tb.hops.get()
    assert sweeper.sweep(now=t0 + timedelta(hours=1))["reminded"] == 0
    mail.outbox.clear()
    late = hop.due_at - timedelta(hours=conf.REMINDER_HOURS_BEFORE - 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.sweep(now=late)["reminded"] == 1
    assert sweeper.sweep(now=late)["reminded"] == 0  # claimed: never twice
    hop.refresh_from_db()
    assert hop.reminded_at is not None
    assert any("Reminder" in m.subject for m in mail.outbox)
    # The mail carries a link, not the call.
    body = next(m.body for m in mail.outbox if "Reminder" in m.subject)
    assert tb.calling_number not in body and tb.called_number not in body and f"/tracebacks/hops/{hop.id}/respond/" in body


def test_it_marks_overdue_and_escalates_to_staff(world, django_capture_on_commit_callbacks) -> None:
    make_net(world)
    t0 = timezone.now()
    tb = open_tb(world, now=t0)
    hop = tb.hops.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = sweeper.sweep(now=hop.due_at + timedelta(minutes=1))
    assert counts["overdue"] == 1
    hop.refresh_from_db()
    assert hop.status == Hop.Status.OVERDUE and hop.escalated_at is not None
    assert any(world.alice.email in m.to and "Escalation" in m.subject for m in mail.outbox)
    assert TracebackEvent.objects.for_org(world.consortium).filter(traceback=tb, kind="hop.overdue").exists()
    assert sweeper.sweep(now=hop.due_at + timedelta(minutes=2))["overdue"] == 0


def test_it_names_the_non_responsive_provider_and_a_late_answer_resumes(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    services.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="upstream", upstream_provider_id=net.transit.id)
    h2 = tb.hops.get(sequence=2)
    sweeper.sweep(now=h2.due_at + timedelta(minutes=1))
    end = h2.due_at + timedelta(hours=conf.NON_RESPONSIVE_GRACE_HOURS, minutes=1)
    assert sweeper.sweep(now=end)["non_responsive"] == 1
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.NON_RESPONSIVE and tb.non_responsive_provider == net.transit
    assert tb.status == Traceback.Status.COMPLETED
    # The provider finally answers: the chain goes on from it.
    services.answer_hop(actor=None, organisation=world.provider_b, hop_id=h2.id, response="upstream", upstream_provider_id=net.origin.id, now=end + timedelta(hours=1))
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.IN_PROGRESS and tb.non_responsive_provider is None
    h3 = tb.hops.get(sequence=3)
    assert h3.provider == net.origin and h3.status == Hop.Status.REQUESTED
    services.answer_hop(actor=None, organisation=world.consortium, hop_id=h3.id, response="originated", customer={"name": "Robo Inc"})
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.ORIGIN_AND_CUSTOMER


def test_it_does_not_sweep_answered_hops(world) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    services.answer_hop(actor=None, organisation=world.provider_a, hop_id=hop.id, response="originated")
    counts = sweeper.sweep(now=hop.due_at + timedelta(days=3))
    assert counts == {"reminded": 0, "overdue": 0, "non_responsive": 0}


def test_it_starts_the_clock_on_business_hours(world) -> None:
    make_net(world, timezone="America/New_York", business_hours_start=8, business_hours_end=17, business_days=[])
    from datetime import datetime
    from zoneinfo import ZoneInfo

    friday_evening = datetime(2026, 11, 20, 19, 0, tzinfo=ZoneInfo("America/New_York"))
    tb = open_tb(world, now=friday_evening)
    hop = tb.hops.get()
    assert hop.clock_starts_at == datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert sweeper.sweep(now=friday_evening + timedelta(hours=30))["overdue"] == 0
