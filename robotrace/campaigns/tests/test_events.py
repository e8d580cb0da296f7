from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from robotrace.campaigns import conf, store
from robotrace.campaigns.models import CampaignEvent
from robotrace.campaigns.signals import campaign_event_created
from robotrace.campaigns.tests.helpers import store_reports

TEXT = "This is an urgent message from the Microsoft security center. We detected a virus on your computer that is sending your personal information to hackers. Press 1 to speak with a certified technician."


@pytest.mark.django_db
def test_it_emits_each_threshold_event_exactly_once(world, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(conf, "VOLUME_THRESHOLDS", [3, 6])
    monkeypatch.setattr(conf, "STATES_THRESHOLDS", [2])
    monkeypatch.setattr(conf, "SURGE_MIN_REPORTS", 5)
    sent: list[dict] = []

    def receiver(sender, **kw):
        sent.append(kw)

    campaign_event_created.connect(receiver)
    try:
        now = timezone.now()
        states = ["NC", "OH", "TX"]
        with django_capture_on_commit_callbacks(execute=True):
            for batch in range(3):  # three uploads, four reports each
                store_reports(world.reporter_a, [
                    {"transcript": TEXT, "called_state": states[i % 3], "call_started_at": now - timedelta(minutes=batch * 10 + i)} for i in range(4)
                ])
                store.catch_up()
    finally:
        campaign_event_created.disconnect(receiver)
    keys = sorted(CampaignEvent.objects.values_list("dedup_key", flat=True))
    # A surge is keyed by its UTC day; a run that straddles midnight may see either day.
    days = {now.date().isoformat(), timezone.now().date().isoformat()}
    surges = [k for k in keys if k.startswith("surge:")]
    assert [k for k in keys if not k.startswith("surge:")] == sorted(["opened", "volume:3", "volume:6", "states:2"])
    assert len(surges) == 1 and surges[0].split(":", 1)[1] in days
    assert sorted(s["kind"] for s in sent) == sorted(["opened", "volume", "volume", "states", "surge"])
    assert all(s["event_id"] and s["campaign_id"] for s in sent)


@pytest.mark.django_db
def test_it_sends_nothing_when_the_transaction_rolls_back(world, django_capture_on_commit_callbacks):
    from django.db import transaction

    from robotrace.campaigns import events
    from robotrace.campaigns.models import Campaign

    c = Campaign.objects.create(name="x")
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                events.emit(c, "volume", "volume:1")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert not CampaignEvent.objects.filter(campaign=c).exists()
    assert callbacks == []
