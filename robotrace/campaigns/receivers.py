"""Signal receivers: ingest's `reports_stored` enqueues the engine."""

from __future__ import annotations

from typing import Any


def on_reports_stored(sender: Any, upload_id: int, reporter_id: int | None = None, accepted: int = 0, **kwargs: Any) -> None:
    if not accepted:
        return
    from robotrace.campaigns.tasks import assign_upload

    # Heavy work never runs inline: the task is queued (immediate in tests).
    assign_upload(upload_id)
