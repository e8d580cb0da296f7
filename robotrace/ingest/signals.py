from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that stored an upload's reports has committed.
# kwargs: upload_id: int, reporter_id: int, accepted: int
# Receivers (campaign engine, STIR/SHAKEN verifier) enqueue background work; they must not
# do heavy work inline, and they must also catch up from their own durable cursor, because a
# crash between commit and enqueue would otherwise lose the notification.
reports_stored = Signal()
