from __future__ import annotations

from django.dispatch import Signal

# Sent after a CampaignEvent row has committed. kwargs: event_id: int, campaign_id: int, kind: str
# Subscribers (alerts, automatic tracebacks) enqueue work and mark the event handled by adding
# their name to CampaignEvent.handled_by; a periodic sweeper of theirs picks up anything missed.
campaign_event_created = Signal()
