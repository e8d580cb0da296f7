from __future__ import annotations

from django.dispatch import Signal

# Sent after a traceback event row has committed (tracebacks.events.STREAM.announce): a hop
# was answered, or a traceback completed. kwargs: event_id: int (a TracebackEvent row),
# traceback_id: int, hop_id: int | None, kind: "hop.answered" | "traceback.completed".
# Subscribers are core.events.Subscriber objects (alerts, scorecards).
traceback_event_created = Signal()
