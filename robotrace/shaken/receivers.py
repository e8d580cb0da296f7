"""Signal receivers: stored uploads are verified in the background."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("robotrace.shaken")


def on_reports_stored(sender: Any, upload_id: int, **kwargs: Any) -> None:
    from robotrace.shaken import tasks

    try:
        tasks.verify_upload(upload_id)
    except Exception:  # never break intake; the periodic catch-up verifies it later
        logger.exception("could not enqueue STIR/SHAKEN verification of upload %s", upload_id)
