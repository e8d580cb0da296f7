"""The durable event mechanism: each subscriber claims a row once, the signal goes out after
the commit, and the periodic catch-up takes whatever a lost signal or task left.

Core imports no app: the tests run it over the campaign-event table by its label, with a
signal of their own so the real subscribers stay out of the way."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from django.dispatch import Signal
from django.utils import timezone

from robotrace.core import events, tasks

_seq = itertools.count(1)


@pytest.fixture
def stream(db, monkeypatch):
    # Only this test's subscribers take part in the catch-up.
    monkeypatch.setattr(events, "_SUBSCRIBERS", {})
    return events.Stream("campaigns.CampaignEvent", signal=Signal(), fields=("id", "kind"))


def _row(kind: str = "volume") -> Any:
    campaign = apps.get_model("campaigns", "Campaign").objects.create(name=f"campaign {next(_seq)}")
    return apps.get_model("campaigns", "CampaignEvent").objects.create(campaign=campaign, kind=kind, at=timezone.now(), dedup_key=f"{kind}:{next(_seq)}")


def _marks(row: Any) -> list[str]:
    row.refresh_from_db()
    return list(row.handled_by)


class Recorder:
    """A subscriber's handler: claims the row in its own transaction and notes it."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.sub: events.Subscriber | None = None

    def __call__(self, *, event_id: int) -> bool:
        with transaction.atomic():
            assert self.sub is not None
            row = self.sub.claim(event_id)
            if row is None:
                return False
            self.handled.append(row["id"])
            return True


def _subscriber(stream: events.Stream, name: str, **kw: Any) -> tuple[events.Subscriber, Recorder]:
    recorder = Recorder()
    sub = events.Subscriber(stream, name, handle=recorder, **kw)
    object.__setattr__(recorder, "sub", sub)
    return sub, recorder


def test_each_subscriber_claims_a_row_once(stream) -> None:
    row = _row()
    alerts, _ = _subscriber(stream, "alerts")
    automation, _ = _subscriber(stream, "automation")
    with transaction.atomic():
        assert alerts.claim(row.pk) == {"id": row.pk, "kind": "volume"}
        assert alerts.claim(row.pk) is None
        assert automation.claim(row.pk) == {"id": row.pk, "kind": "volume"}
        # Re-evaluating a handled row returns it without marking it twice.
        assert alerts.claim(row.pk, again=True) == {"id": row.pk, "kind": "volume"}
    assert _marks(row) == ["alerts", "automation"]
    assert alerts.unhandled_ids() == [] and automation.unhandled_ids() == []


def test_a_claim_needs_the_handlers_transaction_and_rolls_back_with_it(stream, monkeypatch) -> None:
    row = _row()
    sub, _ = _subscriber(stream, "alerts")
    with monkeypatch.context() as m, pytest.raises(RuntimeError):
        m.setattr(connections["default"], "in_atomic_block", False)  # the test runs inside a transaction of its own
        sub.claim(row.pk)  # outside a transaction the mark could outlive a failed handler
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        assert sub.claim(row.pk) is not None
        1 / 0  # noqa: B018  (the handler fails after claiming)
    assert _marks(row) == []
    assert sub.unhandled_ids() == [row.pk]


def test_a_subscriber_takes_only_its_kinds_and_its_window(stream) -> None:
    old, opened, volume = _row("volume"), _row("opened"), _row("volume")
    picky, _ = _subscriber(stream, "picky", kinds=("volume",))
    recent, _ = _subscriber(stream, "recent", window=2)
    with transaction.atomic():
        assert picky.claim(opened.pk) is None
    assert picky.unhandled_ids() == [old.pk, volume.pk]
    assert recent.unhandled_ids() == [opened.pk, volume.pk]


def test_the_signal_after_commit_enqueues_the_handler(stream, django_capture_on_commit_callbacks) -> None:
    sub, recorder = _subscriber(stream, "alerts", enqueue=lambda event_id: recorder(event_id=event_id))  # type: ignore[has-type]  # the recorder returned
    sub.connect()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            row = _row()
            stream.announce(row.pk, kind="volume")
            assert recorder.handled == []  # nothing before the commit
    assert len(callbacks) == 1 and recorder.handled == [row.pk]
    stream.signal.send(sender=None, event_id=row.pk, kind="volume")  # a duplicate signal
    assert recorder.handled == [row.pk]
    assert _marks(row) == ["alerts"]


def test_a_signal_of_a_kind_it_skips_enqueues_nothing_but_the_catch_up_marks_it(stream, django_capture_on_commit_callbacks) -> None:
    enqueued: list[int] = []
    sub, recorder = _subscriber(stream, "automation", enqueue=enqueued.append, signal_skips=lambda kind: kind == "opened")
    sub.connect()
    row = _row("opened")
    with django_capture_on_commit_callbacks(execute=True):
        stream.announce(row.pk, kind="opened")
    assert enqueued == []
    assert tasks.catch_up_events.call_local() == {"campaigns.CampaignEvent/automation": 1}
    assert recorder.handled == [row.pk] and _marks(row) == ["automation"]


def test_a_crash_between_commit_and_enqueue_loses_nothing(stream, django_capture_on_commit_callbacks) -> None:
    alerts, alerts_seen = _subscriber(stream, "alerts", enqueue=lambda event_id: alerts_seen(event_id=event_id))  # type: ignore[has-type]  # the recorder returned
    automation, automation_seen = _subscriber(stream, "automation", enqueue=lambda event_id: automation_seen(event_id=event_id))  # type: ignore[has-type]  # the recorder returned
    alerts.connect()
    automation.connect()
    with django_capture_on_commit_callbacks(execute=False):  # the row committed, the process died
        row = _row()
        stream.announce(row.pk, kind="volume")
    assert alerts_seen.handled == [] and automation_seen.handled == []
    assert tasks.catch_up_events.call_local() == {"campaigns.CampaignEvent/alerts": 1, "campaigns.CampaignEvent/automation": 1}
    assert alerts_seen.handled == [row.pk] and automation_seen.handled == [row.pk]
    # The next minute finds nothing left, and a late signal changes nothing.
    assert tasks.catch_up_events.call_local() == {"campaigns.CampaignEvent/alerts": 0, "campaigns.CampaignEvent/automation": 0}
    stream.signal.send(sender=None, event_id=row.pk, kind="volume")
    assert alerts_seen.handled == [row.pk] and automation_seen.handled == [row.pk]
    assert _marks(row) == ["alerts", "automation"]


def test_an_enqueue_that_fails_never_breaks_the_commit(stream, django_capture_on_commit_callbacks) -> None:
    def broken(event_id: int) -> None:
        raise ConnectionError("the task queue is down")

    sub, recorder = _subscriber(stream, "alerts", enqueue=broken)
    sub.connect()
    with django_capture_on_commit_callbacks(execute=True):
        row = _row()
        stream.announce(row.pk, kind="volume")
    assert recorder.handled == [] and sub.unhandled_ids() == [row.pk]
    assert len(sub.catch_up()) == 1 and recorder.handled == [row.pk]


def test_one_failing_subscriber_does_not_stop_the_others_catch_up(stream) -> None:
    def broken(*, event_id: int) -> None:
        raise RuntimeError("a bug in one subscriber")

    events.Subscriber(stream, "broken", handle=broken).connect()
    fine, recorder = _subscriber(stream, "fine")
    fine.connect()
    row = _row()
    assert tasks.catch_up_events.call_local() == {"campaigns.CampaignEvent/fine": 1}
    assert recorder.handled == [row.pk] and _marks(row) == ["fine"]


def test_a_batch_subscriber_marks_what_it_used_in_one_update(stream) -> None:
    first, second = _row(), _row()
    cards = events.Subscriber(stream, "scorecards")
    cards.connect()
    assert cards.newest_unhandled() == second.pk
    third = _row()  # arrives while the batch works
    assert cards.claim_all(through_id=second.pk) == 2
    assert cards.newest_unhandled() == third.pk
    assert _marks(first) == ["scorecards"] and _marks(third) == []
    assert tasks.catch_up_events.call_local() == {}  # no handler: the catch-up leaves it alone


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_row_handle_it_once(monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database has one writer and no row locks to race on")
    monkeypatch.setattr(events, "_SUBSCRIBERS", {})
    stream = events.Stream("campaigns.CampaignEvent", signal=Signal(), fields=("id", "kind"))
    sub = events.Subscriber(stream, "alerts")
    row = _row()
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def worker() -> None:
        # Whichever claims second finds the row handled, or waits on the first one's row
        # lock and then finds it handled: in every interleaving only one wins.
        try:
            barrier.wait()
            with transaction.atomic():
                won.append(sub.claim(row.pk) is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, True]
    assert _marks(row) == ["alerts"]
