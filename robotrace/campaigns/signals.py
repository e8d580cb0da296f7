from __future__ import annotations

from django.dispatch import Signal

# Sent after a CampaignEvent row has committed (campaigns.events.STREAM.announce).
# kwargs: event_id: int, campaign_id: int, kind: str
# Subscribers (alerts, automatic tracebacks) are core.events.Subscriber objects: they enqueue
# work, claim the event by adding their name to CampaignEvent.handled_by, and core's periodic
# catch-up hands them anything missed.
campaign_event_created = Signal()
