"""Campaign events: one durable row per threshold crossing, then a signal after commit.

`STREAM` describes the table for `core.events`: subscribers (alerts, automatic tracebacks)
claim each row once and catch up from it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from robotrace.campaigns import conf
from robotrace.campaigns.models import Campaign, CampaignEvent
from robotrace.campaigns.signals import campaign_event_created
from robotrace.core.events import Stream
from robotrace.ingest.queries import all_reports

STREAM = Stream("campaigns.CampaignEvent", signal=campaign_event_created, fields=("id", "campaign_id", "kind", "at", "data"))


def emit(campaign: Campaign, kind: str, dedup_key: str, data: dict[str, Any] | None = None) -> CampaignEvent | None:
    """Create the event unless this crossing was already recorded; send the signal on commit.

    The unique (campaign, dedup_key) constraint makes "exactly once" hold even when two
    workers race: the loser's insert fails inside its savepoint and it sends nothing.
    """
    if CampaignEvent.objects.filter(campaign=campaign, dedup_key=dedup_key).exists():
        return None
    try:
        with transaction.atomic():
            event = CampaignEvent.objects.create(
                campaign=campaign, kind=kind, dedup_key=dedup_key, at=timezone.now(), data=data or {}
            )
    except IntegrityError:
        return None
    STREAM.announce(event.pk, campaign_id=campaign.pk, kind=kind)
    return event


def daily_volume_window(campaign: Campaign) -> tuple[int, float]:
    """Reports in the last 24 hours, and the daily average over the 7 days before them."""
    now = timezone.now()
    day = now - timedelta(days=1)
    week = day - timedelta(days=7)
    agg = all_reports(reason="campaign surge check").filter(
        campaign_id=campaign.pk, call_started_at__gte=week
    ).aggregate(last=Count("id", filter=Q(call_started_at__gte=day)), before=Count("id", filter=Q(call_started_at__lt=day)))
    return agg["last"] or 0, (agg["before"] or 0) / 7.0


def check_thresholds(campaign: Campaign) -> list[CampaignEvent]:
    """Emit VOLUME / STATES / SURGE events for crossings the counters now show."""
    made: list[CampaignEvent] = []
    for threshold in conf.VOLUME_THRESHOLDS:
        if campaign.report_count >= threshold:
            ev = emit(campaign, CampaignEvent.Kind.VOLUME, f"volume:{threshold}", {"threshold": threshold, "reports": campaign.report_count})
            if ev:
                made.append(ev)
    for threshold in conf.STATES_THRESHOLDS:
        if campaign.state_count >= threshold:
            ev = emit(campaign, CampaignEvent.Kind.STATES, f"states:{threshold}", {"threshold": threshold, "states": campaign.state_count})
            if ev:
                made.append(ev)
    if campaign.report_count >= conf.SURGE_MIN_REPORTS:
        last, before = daily_volume_window(campaign)
        if last >= conf.SURGE_MIN_REPORTS and last >= conf.SURGE_FACTOR * max(before, 1.0):
            today = timezone.now().date().isoformat()
            ev = emit(campaign, CampaignEvent.Kind.SURGE, f"surge:{today}", {"last_24h": last, "daily_avg_prior_7d": round(before, 1)})
            if ev:
                made.append(ev)
    return made
