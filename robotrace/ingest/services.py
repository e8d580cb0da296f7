"""Writes for the ingest app: storing uploads of call reports.

`receive` (API requests and stream messages): the whole upload in ONE transaction; its
Upload row, reports, counts and audit event commit together or not at all, and
`reports_stored` is sent after the commit. `import_file` (large files from the command line):
one transaction per batch, so a multi-gigabyte import makes progress, and re-running it after
a crash only adds what is missing (duplicates are skipped by key).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from robotrace.audit import services as audit
from robotrace.ingest import conf, parsers
from robotrace.ingest.dnc import DncCheck
from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.schema import Normaliser, Reject, ReportIn, RowError
from robotrace.ingest.signals import reports_stored
from robotrace.ingest.writer import writer_for

if TYPE_CHECKING:
    from robotrace.accounts.models import ApiKey, Organisation, User


class RejectSink:
    """Every reject of one upload, as NDJSON under MEDIA_ROOT; the first few kept inline.

    With `limit`, one reject more than that refuses the whole upload (422, nothing stored):
    a file that bad is the wrong file or a format mix-up, and its rejects file would be
    larger than the upload."""

    def __init__(self, organisation_id: int, *, limit: int | None = None):
        self.relpath = f"ingest/rejects/{organisation_id}/{uuid.uuid4().hex}.ndjson"
        self.first: list[dict[str, Any]] = []
        self.count = 0
        self.limit = limit
        self._fh: IO[bytes] | None = None

    @property
    def path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.relpath

    def add(self, reject: Reject) -> None:
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            raise parsers.ReadProblem(
                422, "Too many rejected lines",
                f"more than {self.limit:,} lines were rejected, so nothing was stored: check the format and the first rejects listed, fix the file and send it again",
                errors=self.first,
            )  # fmt: skip
        record = reject.as_dict()
        if len(self.first) < conf.INLINE_REJECTS:
            self.first.append(record)
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("wb")
        self._fh.write(orjson.dumps(record) + b"\n")

    def close(self) -> str:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        return self.relpath if self.count else ""

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


@dataclass
class Tally:
    lines: int = 0
    rows: int = 0  # rows handed to the writer
    in_batch_duplicates: int = 0


@dataclass
class Batch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    last_line: int = 0


def batches(
    items: Iterable[tuple[int, ReportIn | Reject]],
    normaliser: Normaliser,
    sink: RejectSink,
    tally: Tally,
    batch_size: int | None = None,
) -> Iterator[Batch]:
    """Normalise decoded lines into batches of unique rows; rejects go to the sink."""
    size = batch_size or conf.BATCH_SIZE
    batch = Batch()
    keys: set[str] = set()
    to_row = normaliser.row
    add_reject = sink.add
    for line, item in items:
        tally.lines = line
        if isinstance(item, Reject):
            add_reject(item)
            continue
        try:
            row = to_row(item)
        except RowError as exc:
            add_reject(Reject(line, exc.field, exc.reason))
            continue
        if row[0] in keys:
            tally.in_batch_duplicates += 1
            continue
        keys.add(row[0])
        batch.rows.append(row)
        if len(batch.rows) >= size:
            batch.last_line = line
            tally.rows += len(batch.rows)
            yield batch
            batch, keys = Batch(), set()
    if batch.rows:
        batch.last_line = tally.lines
        tally.rows += len(batch.rows)
        yield batch


def answer(upload: Upload) -> dict[str, Any]:
    """The 202 body; also what an Idempotency-Key retry gets back."""
    return {
        "upload_id": upload.id,
        "status": upload.status,
        "lines": upload.lines,
        "accepted": upload.accepted,
        "duplicates": upload.duplicates,
        "rejected": upload.rejected,
        "rejects": upload.first_rejects,
        "rejects_url": reverse("ingest_api:upload_rejects", args=[upload.id]) if upload.rejects_path else None,
    }


def _announce(upload_id: int, reporter_id: int, accepted: int) -> None:
    reports_stored.send(sender=Upload, upload_id=upload_id, reporter_id=reporter_id, accepted=accepted)


def _actor_label(user: User | None, api_key: ApiKey | None, source: str) -> str:
    if user is not None:
        return user.email
    if api_key is not None:
        return f"api-key:{api_key.prefix}"
    return source


def receive(
    *,
    organisation: Organisation,
    actor: User | None,
    chunks: Iterable[bytes],
    fmt: str,
    source: str = Upload.Source.API,
    api_key: ApiKey | None = None,
    tz: tzinfo | None = None,
    idempotency_key: str = "",
    filename: str = "",
    request: HttpRequest | None = None,
    fail_after_batches: int | None = None,
) -> Upload:
    """Store one upload all-or-nothing and return its Upload (committed when this returns).

    Raises parsers.ReadProblem when the input as a whole is unreadable (nothing is stored),
    and IntegrityError when a concurrent request with the same Idempotency-Key won the race
    (the caller answers with that one's result). `fail_after_batches` exists for the
    all-or-nothing test: it raises after writing that many batches.
    """
    now = timezone.now()
    normaliser = Normaliser(default_tz=tz, now=now, for_sqlite=connection.vendor == "sqlite")
    sink = RejectSink(organisation.id, limit=conf.MAX_REJECTS)
    tally = Tally()
    stream = batches(parsers.FORMATS[fmt](parsers.line_capped(chunks, conf.MAX_LINES)), normaliser, sink, tally)
    try:
        # Decode the first batch before BEGIN: on SQLite the write lock is taken at BEGIN
        # (IMMEDIATE), and a typical request is one batch, so parsing runs in parallel
        # across server workers and only the write itself is serialised.
        first = next(stream, None)
        with _synced_commit(), transaction.atomic():
            upload = Upload.objects.create(
                reporter=organisation,
                source=source,
                format=fmt,
                filename=filename[:255],
                idempotency_key=idempotency_key,
                api_key=api_key,
                created_by=actor,
            )
            writer = writer_for()
            dnc = DncCheck()
            accepted = 0
            written = 0
            pending = [first] if first is not None else []
            for batch in _chain(pending, stream):
                dnc.apply(batch.rows)
                accepted += writer.write(reporter_id=organisation.id, upload_id=upload.id, rows=batch.rows)
                written += 1
                if fail_after_batches is not None and written >= fail_after_batches:
                    raise RuntimeError("forced failure after writing a batch (test hook)")
            upload.lines = tally.lines
            upload.accepted = accepted
            upload.duplicates = tally.rows - accepted + tally.in_batch_duplicates
            upload.rejected = sink.count
            upload.first_rejects = sink.first
            upload.rejects_path = sink.close()
            upload.save(update_fields=["lines", "accepted", "duplicates", "rejected", "first_rejects", "rejects_path"])
            # Last, so the audit chain's row lock is held only for the commit itself.
            audit.record(
                action="ingest.upload",
                actor=actor,
                actor_org=organisation,
                actor_label=_actor_label(actor, api_key, source),
                obj=upload,
                subject_org=organisation,
                data={"source": source, "format": fmt, "lines": upload.lines, "accepted": accepted,
                      "duplicates": upload.duplicates, "rejected": upload.rejected},
                request=request,
            )  # fmt: skip
            if accepted:
                transaction.on_commit(partial(_announce, upload.id, organisation.id, accepted))
    except BaseException:
        sink.discard()
        raise
    return upload


@contextmanager
def _synced_commit() -> Iterator[None]:
    """A 202 says the accepted lines are durable. The SQLite default (WAL, synchronous=NORMAL)
    survives the application crashing but may lose the last commits on power loss, so once
    the upload has committed, the WAL file is fsynced before the answer goes out.

    Why after COMMIT and not with synchronous=FULL: FULL syncs inside SQLite's write lock,
    and at 5,000 reports a commit appends ~25 MB of index pages, whose fsync (~17 ms here)
    every other upload waited for. Syncing the file afterwards is as durable: our frames
    are either still in the WAL, and reach the disk with it, or a checkpoint has already
    copied them into the database file, and it synced that file before the WAL could be
    reused."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # PostgreSQL commits are synced; inside a transaction the caller commits
        return
    yield
    sync_wal()


def sync_wal() -> None:
    """fsync the embedded database's WAL file (no-op for an in-memory database)."""
    with connection.cursor() as cur:
        cur.execute("PRAGMA journal_mode")
        mode = cur.fetchone()[0]
        cur.execute("PRAGMA database_list")
        path = next((row[2] for row in cur.fetchall() if row[1] == "main"), "")
    if not path or mode.lower() != "wal":
        # In-memory (tests) or a journal mode other than the configured WAL, whose commits
        # with synchronous=NORMAL sync the rollback journal and database themselves.
        return
    fd = os.open(f"{path}-wal", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _chain(first: list[Batch], rest: Iterator[Batch]) -> Iterator[Batch]:
    yield from first
    yield from rest


@dataclass
class FileSummary:
    upload: Upload
    batches: int


def import_file(
    *,
    organisation: Organisation,
    actor: User | None,
    chunks: Iterable[bytes],
    fmt: str,
    tz: tzinfo | None = None,
    filename: str = "",
    on_batch: Callable[[int, int], None] | None = None,
) -> FileSummary:
    """A large file, one transaction per batch. `on_batch(last_line, rows)` reports progress."""
    now = timezone.now()
    with transaction.atomic():
        upload = Upload.objects.create(reporter=organisation, source=Upload.Source.FILE, format=fmt, filename=filename[:255], created_by=actor)
        audit.record(action="ingest.file_started", actor=actor, actor_org=organisation, actor_label=_actor_label(actor, None, "file"),
                     obj=upload, subject_org=organisation, data={"format": fmt, "filename": filename})  # fmt: skip
    normaliser = Normaliser(default_tz=tz, now=now, for_sqlite=connection.vendor == "sqlite")
    sink = RejectSink(organisation.id)
    tally = Tally()
    writer = writer_for()
    dnc = DncCheck()
    count = 0
    accepted_total = 0
    seen_rows = 0
    try:
        for batch in batches(parsers.FORMATS[fmt](chunks), normaliser, sink, tally):
            with transaction.atomic():
                dnc.apply(batch.rows)
                accepted = writer.write(reporter_id=organisation.id, upload_id=upload.id, rows=batch.rows)
                Upload.objects.unscoped(reason="file import progress").filter(id=upload.id).update(
                    lines=batch.last_line,
                    accepted=F("accepted") + accepted,
                    duplicates=F("duplicates") + (len(batch.rows) - accepted),
                )
                if accepted:
                    transaction.on_commit(partial(_announce, upload.id, organisation.id, accepted))
            count += 1
            accepted_total += accepted
            seen_rows += len(batch.rows)
            if on_batch:
                on_batch(batch.last_line, len(batch.rows))
    finally:
        relpath = sink.close()
        with transaction.atomic():
            Upload.objects.unscoped(reason="file import summary").filter(id=upload.id).update(
                lines=tally.lines,
                duplicates=F("duplicates") + tally.in_batch_duplicates,
                rejected=sink.count,
                first_rejects=sink.first,
                rejects_path=relpath,
            )
            upload.refresh_from_db()
            audit.record(action="ingest.file_finished", actor=actor, actor_org=organisation, actor_label=_actor_label(actor, None, "file"),
                         obj=upload, subject_org=organisation,
                         data={"lines": upload.lines, "accepted": upload.accepted, "duplicates": upload.duplicates, "rejected": upload.rejected})  # fmt: skip
    return FileSummary(upload=upload, batches=count)


def record_rejects_download(*, actor: User | None, organisation: Organisation, upload: Upload, request: HttpRequest | None = None) -> None:
    """Rejects files hold reporters' raw data; reading one is audited like any document read."""
    audit.record(action="ingest.rejects_downloaded", actor=actor, actor_org=organisation, obj=upload,
                 subject_org=upload.reporter, request=request, data={"rejected": upload.rejected})  # fmt: skip


RECORDING_TYPES = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3",
                   "audio/ogg": "ogg", "audio/flac": "flac", "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/webm": "webm"}  # fmt: skip


class RecordingRefused(ValueError):
    pass


def attach_recording(*, organisation: Organisation, actor: User | None, report_id: int, chunks: Iterable[bytes],
                     content_type: str, api_key: ApiKey | None = None, request: HttpRequest | None = None) -> str:  # fmt: skip
    """Store a report's recording (content-addressed by SHA-256, so the same audio sent for many
    reports is kept once) and record its hash on the report. Returns the hash."""
    import hashlib
    import os
    import tempfile

    from robotrace.ingest.models import CallReport

    ext = RECORDING_TYPES.get(content_type.split(";")[0].strip().lower())
    if ext is None:
        raise RecordingRefused(f"not a supported audio type: {content_type!r} (use WAV, MP3, OGG, FLAC, M4A or WebM)")
    report = CallReport.objects.for_org(organisation).filter(id=report_id, reporter=organisation).first()
    if report is None:
        raise LookupError(report_id)
    folder = Path(settings.MEDIA_ROOT) / "ingest" / "recordings" / str(organisation.id)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > conf.RECORDING_MAX_BYTES:
                    raise RecordingRefused(f"recordings are limited to {conf.RECORDING_MAX_BYTES:,} bytes")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise RecordingRefused("the recording is empty")
        sha = digest.hexdigest()
        final = folder / f"{sha}.{ext}"
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with transaction.atomic():
        CallReport.objects.for_org(organisation).filter(id=report.id).update(
            recording_sha256=sha, recording_url=f"/api/v1/reports/{report.id}/recording"
        )
        audit.record(action="ingest.recording_attached", actor=actor, actor_org=organisation,
                     actor_label=_actor_label(actor, api_key, "api"), object_type="ingest.callreport", object_id=report.id,
                     subject_org=organisation, request=request, data={"sha256": sha, "bytes": size, "type": ext})  # fmt: skip
    return sha


def recording_path(report: Any) -> Path | None:
    if not report.recording_sha256:
        return None
    folder = Path(settings.MEDIA_ROOT) / "ingest" / "recordings" / str(report.reporter_id)
    for candidate in folder.glob(f"{report.recording_sha256}.*"):
        return candidate
    return None


def record_recording_download(*, actor: User | None, organisation: Organisation, report: Any, request: HttpRequest | None = None) -> None:
    audit.record(action="ingest.recording_downloaded", actor=actor, actor_org=organisation, object_type="ingest.callreport",
                 object_id=report.id, subject_org=report.reporter, request=request, data={"sha256": report.recording_sha256})  # fmt: skip


# --- The campaign column: call reports are ingest's, their campaign is the campaign engine's.
# System work (the engine's assignment is derived data; campaign merges and splits audit
# themselves in the campaigns app).


def assign_to_campaign(*, report_ids: list[int], campaign_id: int) -> int:
    """Put the reports in the campaign; returns how many rows changed."""
    reports = CallReport.objects.unscoped(reason="campaign assignment")
    changed = 0
    for i in range(0, len(report_ids), 900):  # SQLite's parameter limit
        changed += reports.filter(pk__in=report_ids[i : i + 900]).update(campaign_id=campaign_id)
    return changed


def move_between_campaigns(*, from_campaign_id: int, to_campaign_id: int) -> int:
    """Every report of one campaign into another (a merge); returns how many moved."""
    return CallReport.objects.unscoped(reason="campaign merge").filter(campaign_id=from_campaign_id).update(campaign_id=to_campaign_id)


def add_reports(*, reporter: Organisation, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Store reports given as model fields, in batches, without intake's checks: for tools
    that replay a data set into an empty database (`robotrace campaigns cluster`)."""
    n, batch = 0, []
    for row in rows:
        batch.append(CallReport(reporter=reporter, **row))
        if len(batch) >= batch_size:
            CallReport.objects.bulk_create(batch)
            n, batch = n + len(batch), []
    if batch:
        CallReport.objects.bulk_create(batch)
        n += len(batch)
    return n
