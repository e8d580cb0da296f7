"""Signal receivers: campaign events open automatic tracebacks (in the background)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("robotrace.tracebacks")


def on_campaign_event(sender: Any, event_id: int, kind: str = "", **kwargs: Any) -> None:
    from robotrace.tracebacks import conf, tasks

    if kind and kind not in conf.AUTO_EVENT_KINDS:
        return  # the periodic catch-up marks it handled; nothing to open
    try:
        tasks.handle_campaign_event(event_id)
    except Exception:  # never break the campaign engine's commit; catch-up retries it
        logger.exception("could not enqueue automatic traceback for campaign event %s", event_id)


def forget_contacts(sender: Any, **kwargs: Any) -> None:
    """A user or organisation changed: drop the cached hop-notification contacts."""
    from robotrace.tracebacks import services

    services._CONTACTS.clear()
