"""Receivers: a committed CampaignEvent enqueues its evaluation (the catch-up task covers
anything this misses)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from robotrace.campaigns.signals import campaign_event_created


@receiver(campaign_event_created, dispatch_uid="alerts.on_campaign_event")
def on_campaign_event(sender: Any, event_id: int, **kwargs: Any) -> None:
    from robotrace.alerts import tasks

    tasks.process_campaign_event(event_id)
