"""The in-process relay: committed deliveries are sent at once from a small thread pool,
and their outcomes written in batches by one flusher thread.

Rows are durable before anything is sent (written in the transaction of the change that
caused them); if this process dies before an outcome is written, the row stays "sending"
until its lease runs out and the periodic sweeper sends it again. Batching matters on a busy
SQLite database, which has one writer: a fifth of a second gathers a few dozen outcomes into
one write transaction (docs/bench-traceback.md). The pool's threads never touch the
database; `record` (services.record) writes the outcomes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from robotrace.outbox import conf
from robotrace.outbox.transports import Message, Outcome, send

logger = logging.getLogger("robotrace.outbox")

Record = Callable[[Sequence[Outcome]], object]

FLUSH_SECONDS = 0.2
_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()
_OUTCOMES: list[Outcome] = []
_FLUSHER: threading.Thread | None = None


def pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=max(conf.RELAY_THREADS, 1), thread_name_prefix="outbox")
    return _POOL


def dispatch(messages: Sequence[Message], record: Record) -> None:
    """Send claimed messages now: from the pool, their outcomes written by the flusher; or,
    with no relay threads, here, their outcomes written before this returns."""
    if not messages:
        return
    if conf.RELAY_THREADS == 0:
        record([send(m) for m in messages])
        return
    for m in messages:
        pool().submit(_send_and_queue, m, record)


def send_all(messages: Sequence[Message]) -> list[Outcome]:
    """Send and wait for every outcome (the sweeper, "retry now"): in parallel on the relay's
    threads when there are any."""
    if conf.RELAY_THREADS == 0 or len(messages) < 2:
        return [send(m) for m in messages]
    return list(pool().map(send, messages))


def _send_and_queue(message: Message, record: Record) -> None:
    outcome = send(message)
    with _LOCK:
        _OUTCOMES.append(outcome)
    _ensure_flusher(record)


def _ensure_flusher(record: Record) -> None:
    global _FLUSHER
    if _FLUSHER is None or not _FLUSHER.is_alive():
        with _LOCK:
            if _FLUSHER is None or not _FLUSHER.is_alive():
                _FLUSHER = threading.Thread(target=_flush_forever, args=(record,), name="outbox-outcomes", daemon=True)
                _FLUSHER.start()


def _flush_forever(record: Record) -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush(record)
        except Exception:  # the rows stay "sending"; the sweeper settles them after the lease
            logger.exception("could not record delivery outcomes")
            connection.close()
        finally:
            connection.close_if_unusable_or_obsolete()  # else keep it: a reconnect per flush costs more than the flush


def flush(record: Record) -> int:
    """Write the outcomes gathered so far (one write transaction)."""
    with _LOCK:
        batch = _OUTCOMES[:]
        del _OUTCOMES[:]
    if batch:
        record(batch)
    return len(batch)
