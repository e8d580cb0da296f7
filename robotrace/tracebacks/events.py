"""Traceback events for higher layers: a hop answered, a traceback completed.

They are the traceback's own timeline rows of those kinds (`TracebackEvent`), written in the
transaction of the answer or completion, so announcing them costs the hot path no extra
insert; each row's `handled_by` lists the `core.events` subscribers that have handled it.
A completion that a late answer later reopens and completes again is two events. A
cancelled traceback did not complete: it emits none.

Subscribers read what they need through `tracebacks.queries` (`outcome`), never the models.
"""

from __future__ import annotations

from robotrace.core.events import Stream
from robotrace.tracebacks.signals import traceback_event_created

HOP_ANSWERED = "hop.answered"
TRACEBACK_COMPLETED = "traceback.completed"

STREAM = Stream(
    "tracebacks.TracebackEvent",
    signal=traceback_event_created,
    kinds=(HOP_ANSWERED, TRACEBACK_COMPLETED),
    fields=("id", "kind", "at", "traceback_id", "hop_id"),
)
