"""Receivers: a committed CampaignEvent enqueues its evaluation (the catch-up task covers
anything this misses)."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from robotrace.campaigns.signals import campaign_event_created

logger = logging.getLogger("robotrace.alerts")


@receiver(campaign_event_created, dispatch_uid="alerts.on_campaign_event")
def on_campaign_event(sender: Any, event_id: int, **kwargs: Any) -> None:
    from robotrace.alerts import tasks

    try:
        tasks.process_campaign_event(event_id)
    except Exception:
        # Never let alerting break the campaign engine that sent the signal: the event stays
        # without the "alerts" marker and the periodic catch-up evaluates it.
        logger.exception("alerts: could not process campaign event %s now; catch-up will", event_id)
