"""robotrace ingest-stream: consume call reports from NATS JetStream.

Each message is an NDJSON batch of reports (optionally gzip, header `Content-Encoding:
gzip`) from one reporter, named by the subject's last token (`robotrace.reports.<reporter-slug>`)
and by nothing else: the subject is what NATS permissions can restrict per publisher, while any
publisher can write any header, so a `Reporter` header that names someone else is refused. A message is acknowledged only after its upload has
committed; a message redelivered after a crash finds its upload by idempotency key (the
stream sequence) and is acknowledged without storing anything again, and even without that
the (reporter, source_report_id) keys make re-storing impossible.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandParser
from django.db import IntegrityError, close_old_connections

from robotrace.accounts.queries import organisation_by_slug
from robotrace.ingest import conf, parsers, queries, services
from robotrace.ingest.models import Upload

logger = logging.getLogger("robotrace.ingest.stream")


def store_message(data: bytes, headers: dict[str, str], subject: str, stream: str, seq: int) -> str:
    """Store one message; returns what happened ("stored", "replayed", "poison: ..."). Runs in
    a worker thread (Django's ORM is synchronous)."""
    close_old_connections()
    slug = subject.rsplit(".", 1)[-1]
    claimed = headers.get("Reporter")
    if claimed and claimed != slug:
        return f"poison: the Reporter header names {claimed!r} but the message was published on {subject!r}; a reporter is named by its subject only"
    org = organisation_by_slug(slug)
    if org is None or not org.is_reporter:
        return f"poison: no reporter organisation {slug!r}"
    key = f"nats:{stream}:{seq}"
    if queries.upload_by_idempotency_key(org, key) is not None:
        return "replayed"
    tz = None
    if headers.get("X-Timezone"):
        try:
            tz = ZoneInfo(headers["X-Timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            return f"poison: unknown time zone {headers['X-Timezone']!r}"
    chunks: Any = [data]
    if headers.get("Content-Encoding", "").lower() == "gzip":
        chunks = parsers.gunzip(chunks)
    chunks = parsers.capped(chunks, conf.MAX_UPLOAD_BYTES)
    try:
        upload = services.receive(organisation=org, actor=None, chunks=chunks, fmt="ndjson", source=Upload.Source.STREAM,
                                  tz=tz, idempotency_key=key, filename=subject)  # fmt: skip
    except parsers.ReadProblem as exc:
        return f"poison: {exc.title}: {exc.detail}"
    except IntegrityError:
        # Another consumer stored this very message first (a redelivery overlapping a slow
        # first attempt): its upload carries the idempotency key, so this one is done.
        if queries.upload_by_idempotency_key(org, key) is not None:
            return "replayed"
        raise
    return f"stored upload {upload.id}: {upload.accepted} accepted, {upload.duplicates} duplicates, {upload.rejected} rejected"


async def ensure_stream(js: Any, stream: str, prefix: str) -> None:
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))


class Command(BaseCommand):
    help = "Consume call reports from NATS JetStream (durable consumer, ack after commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reporter", default="", help="only this reporter's subject (default: every reporter)")
        parser.add_argument("--subject", default="", help=f"subject to consume (default {conf.NATS_SUBJECT_PREFIX}.<reporter> or .>)")
        parser.add_argument("--durable", default="", help="durable consumer name (default ingest-<reporter|all>)")
        parser.add_argument("--url", default=conf.NATS_URL)
        parser.add_argument("--stream", default=conf.NATS_STREAM)
        parser.add_argument("--batch", type=int, default=10, help="messages fetched per pull")
        parser.add_argument("--ack-wait", type=float, default=30, help="seconds before an unacknowledged message is redelivered")
        parser.add_argument(
            "--idle-exit", type=float, default=0,
            help="exit after this many idle seconds with nothing pending or awaiting redelivery (0: run forever)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self.consume(options))

    async def consume(self, o: dict[str, Any]) -> None:
        import nats
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig

        prefix = conf.NATS_SUBJECT_PREFIX
        subject = o["subject"] or (f"{prefix}.{o['reporter']}" if o["reporter"] else f"{prefix}.>")
        durable = o["durable"] or f"ingest-{o['reporter'] or 'all'}"
        nc = await nats.connect(o["url"], name=f"robotrace-{durable}")
        js = nc.jetstream()
        await ensure_stream(js, o["stream"], prefix)
        sub = await js.pull_subscribe(subject, durable=durable, stream=o["stream"],
                                      config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_deliver=-1, ack_wait=o["ack_wait"]))  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.stderr.write(f"consuming {subject} on stream {o['stream']} as {durable}")
        idle = 0.0
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(o["batch"], timeout=1)
                except (NatsTimeout, TimeoutError):
                    # nats-py raises its own TimeoutError, or the builtin one when the deadline
                    # runs out between its two pull requests (seen on a loaded machine).
                    idle += 1
                    if o["idle_exit"] and idle >= o["idle_exit"]:
                        # Messages a killed predecessor fetched but never acknowledged come
                        # back after ack_wait: not idle until none are outstanding.
                        info = await sub.consumer_info()
                        if not info.num_ack_pending and not info.num_pending:
                            break
                        idle = 0.0
                    continue
                idle = 0.0
                for msg in msgs:
                    meta = msg.metadata
                    work = asyncio.create_task(asyncio.to_thread(
                        store_message, msg.data, dict(msg.headers or {}), msg.subject, meta.stream, meta.sequence.stream
                    ))  # fmt: skip
                    # A big message may take longer than ack_wait: keep telling the server
                    # we are on it, so it is not redelivered to someone else meanwhile.
                    while not work.done():
                        await asyncio.wait({work}, timeout=max(o["ack_wait"] / 3, 0.5))
                        if not work.done():
                            await msg.in_progress()
                    outcome = work.result()
                    if outcome.startswith("poison"):
                        logger.error("message %s: %s", meta.sequence.stream, outcome)
                        await msg.term()
                    else:
                        # Committed before this line: a crash from here on means redelivery,
                        # which store_message recognises by its idempotency key.
                        await msg.ack_sync()
                    self.stderr.write(f"#{meta.sequence.stream} {msg.subject}: {outcome}")
                    if stop.is_set():
                        break
        finally:
            await nc.drain()
