"""Scorecards follow the tracebacks' events: a hop answered or a traceback completed brings a
refresh within the minute, and a quiet minute costs no refresh."""

from __future__ import annotations

from robotrace.scorecards.models import FlagRun
from robotrace.scorecards.tasks import TRACEBACK_EVENTS, refresh_on_traceback_events, refresh_scorecards_and_flags
from robotrace.tracebacks import services as tracebacks
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_an_answered_hop_brings_a_refresh_once(world) -> None:
    make_net(world)
    assert refresh_on_traceback_events.call_local() is None  # nothing happened: no refresh
    tb = open_tb(world)
    tracebacks.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="originated")
    assert TRACEBACK_EVENTS.newest_unhandled() is not None
    result = refresh_on_traceback_events.call_local()
    assert result is not None and result["scorecard_rows"] >= 1
    assert FlagRun.objects.count() == 1
    assert TRACEBACK_EVENTS.newest_unhandled() is None
    assert refresh_on_traceback_events.call_local() is None
    assert FlagRun.objects.count() == 1


def test_the_interval_refresh_also_covers_the_events_it_saw(world) -> None:
    make_net(world)
    tb = open_tb(world)
    tracebacks.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="originated")
    refresh_scorecards_and_flags.call_local()
    assert TRACEBACK_EVENTS.newest_unhandled() is None
    assert refresh_on_traceback_events.call_local() is None
    assert FlagRun.objects.count() == 1
