"""Automatic tracebacks: campaign events open tracebacks on a campaign's freshest calls.

A `core.events` subscriber ("tracebacks") of the campaign-event stream: the signal enqueues
`tasks.handle_campaign_event`, and core's periodic catch-up hands it any event it missed.
Every event is claimed (marked handled) once, including the kinds that open nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from robotrace.campaigns.events import STREAM as CAMPAIGN_EVENTS
from robotrace.core.events import Subscriber
from robotrace.tracebacks import conf
from robotrace.tracebacks.models import Traceback
from robotrace.tracebacks.services import TracebackError, consortium_org, open_from_campaign

SUBSCRIBER = Subscriber(
    CAMPAIGN_EVENTS,
    "tracebacks",
    handle="robotrace.tracebacks.automation.handle_campaign_event",
    enqueue="robotrace.tracebacks.tasks.handle_campaign_event",
    # Kinds that open nothing need no task; the catch-up marks them handled.
    signal_skips=lambda kind: kind not in conf.AUTO_EVENT_KINDS,
    # Only the newest events are caught up: an old event never opens tracebacks late.
    window=5000,
)


def handle_campaign_event(*, event_id: int, now: datetime | None = None) -> list[int]:
    """Open automatic tracebacks for a campaign event, once (claimed by marking it handled)."""
    with transaction.atomic():
        event = SUBSCRIBER.claim(event_id)
        if event is None:
            return []
        if event["kind"] not in conf.AUTO_EVENT_KINDS or conf.AUTO_SAMPLES_PER_CAMPAIGN < 1:
            return []
        org = consortium_org()
        if org is None:
            return []
        campaign_id = event["campaign_id"]
        open_now = Traceback.objects.unscoped(reason="auto traceback cap").filter(campaign_id=campaign_id, status=Traceback.Status.IN_PROGRESS).count()
        wanted = min(conf.AUTO_SAMPLES_PER_CAMPAIGN, conf.AUTO_MAX_OPEN_PER_CAMPAIGN - open_now)
        if wanted < 1:
            return []
        try:
            with transaction.atomic():
                opened = open_from_campaign(actor=None, organisation=org, campaign_id=campaign_id, samples=wanted, now=now,
                                            actor_label=f"automatic ({event['kind']} event)")
        except (TracebackError, IntegrityError):
            return []
        return [tb.id for tb in opened]


def catch_up_campaign_events(*, limit: int = 200) -> int:
    """Events the signal missed (a crash between commit and enqueue): how many were handled."""
    return len(SUBSCRIBER.catch_up(limit=limit))
