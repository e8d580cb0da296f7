"""Hop answered and traceback completed: one durable event each, announced after the commit,
for every way a traceback completes (an origin, non-responsive, a resumed chain)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from robotrace.tracebacks import conf, events, services, sweeper
from robotrace.tracebacks.models import Traceback, TracebackEvent
from robotrace.tracebacks.signals import traceback_event_created
from robotrace.tracebacks.tests.factories import make_net, open_tb


@pytest.fixture
def heard():
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kw: Any) -> None:
        sent.append(kw)

    traceback_event_created.connect(receiver)
    yield sent
    traceback_event_created.disconnect(receiver)


def _rows(tb: Traceback) -> list[tuple[str, int | None]]:
    return list(events.STREAM.rows().filter(traceback_id=tb.id).order_by("id").values_list("kind", "hop_id"))


def _signals(heard: list[dict[str, Any]], tb: Traceback) -> list[tuple[str, int | None]]:
    return [(s["kind"], s["hop_id"]) for s in heard if s["traceback_id"] == tb.id]


def test_each_answer_and_the_completion_are_one_event_each(world, heard, django_capture_on_commit_callbacks) -> None:
    net = make_net(world)
    tb = open_tb(world)
    first = tb.hops.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_hop(actor=None, organisation=world.provider_a, hop_id=first.id, response="upstream", upstream_provider_id=net.transit.id)
    second = tb.hops.get(sequence=2)
    assert _signals(heard, tb) == [("hop.answered", first.id)]
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_hop(actor=None, organisation=world.provider_b, hop_id=second.id, response="originated", customer={"name": "Robo Inc"},
                            idempotency_key="k1")
        # A retry of the same answer records nothing new.
        services.answer_hop(actor=None, organisation=world.provider_b, hop_id=second.id, response="originated", customer={"name": "Robo Inc"},
                            idempotency_key="k1")
    expected = [("hop.answered", first.id), ("hop.answered", second.id), ("traceback.completed", None)]
    assert _rows(tb) == expected
    assert _signals(heard, tb) == expected
    assert all(s["event_id"] for s in heard)


def test_nothing_is_announced_when_the_answer_rolls_back(world, heard, django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    make_net(world)
    tb = open_tb(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="originated")
        raise RuntimeError("the caller's transaction fails")
    assert _rows(tb) == [] and _signals(heard, tb) == []


def test_a_non_responsive_completion_is_an_event_once_and_its_resumed_completion_another(world, heard, django_capture_on_commit_callbacks) -> None:
    net = make_net(world)
    tb = open_tb(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="upstream", upstream_provider_id=net.transit.id)
    second = tb.hops.get(sequence=2)
    end = second.due_at + timedelta(hours=conf.NON_RESPONSIVE_GRACE_HOURS, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.sweep(now=second.due_at + timedelta(minutes=1))
        assert sweeper.sweep(now=end)["non_responsive"] == 1
        assert sweeper.sweep(now=end + timedelta(minutes=1))["non_responsive"] == 0
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.NON_RESPONSIVE
    assert [k for k, _ in _signals(heard, tb)] == ["hop.answered", "traceback.completed"]
    # The late answer resumes the chain; its end completes it again: a second event.
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_hop(actor=None, organisation=world.provider_b, hop_id=second.id, response="originated", now=end + timedelta(hours=1))
    assert [k for k, _ in _rows(tb)] == ["hop.answered", "traceback.completed", "hop.answered", "traceback.completed"]
    assert _signals(heard, tb) == _rows(tb)


def test_a_cancelled_traceback_did_not_complete(world, heard, django_capture_on_commit_callbacks) -> None:
    make_net(world)
    tb = open_tb(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_traceback(actor=world.alice, organisation=world.consortium, traceback_id=tb.id, reason="opened on the wrong call")
    assert _rows(tb) == [] and _signals(heard, tb) == []
    assert TracebackEvent.objects.for_org(world.consortium).filter(traceback=tb, kind="traceback.cancelled").exists()


def test_other_timeline_rows_are_not_events(world) -> None:
    make_net(world)
    tb = open_tb(world)
    assert TracebackEvent.objects.for_org(world.consortium).filter(traceback=tb).exists()  # opened, hop requested
    assert _rows(tb) == []
