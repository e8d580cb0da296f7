"""robotrace ingest FILE --reporter ORG --format ndjson|csv|ftc-dnc|fcc-complaints"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from robotrace.accounts.queries import organisation_by_ref
from robotrace.ingest import parsers, services

# FTC and FCC exports give local times without an offset; their publishers are on Eastern time.
DEFAULT_ZONES = {"ftc-dnc": "America/New_York", "fcc-complaints": "America/New_York"}


class Command(BaseCommand):
    help = "Import call reports from a file (optionally .gz), streamed in batches with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path, or - for standard input; .gz files are decompressed")
        parser.add_argument("--reporter", required=True, help="reporter organisation slug or id")
        parser.add_argument("--format", required=True, choices=sorted(parsers.FORMATS), dest="fmt")
        parser.add_argument("--timezone", default="", help="IANA zone for times without an offset (FTC/FCC default: America/New_York)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        ref = options["reporter"]
        org = organisation_by_ref(ref)
        if org is None:
            raise CommandError(f"no organisation {ref!r}")
        if not org.is_reporter:
            raise CommandError(f"{org.name} is a {org.kind}, not a reporter organisation")
        fmt = options["fmt"]
        tz_name = options["timezone"] or DEFAULT_ZONES.get(fmt, "")
        try:
            tz = ZoneInfo(tz_name) if tz_name else None
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"unknown time zone {tz_name!r}") from exc

        name = options["file"]
        if name == "-":
            fh = sys.stdin.buffer
            total = None
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            fh = path.open("rb")
            total = path.stat().st_size
        gz = name.endswith(".gz")
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=Path(name).name, file=sys.stderr, disable=options["no_progress"])

        def read(n: int) -> bytes:
            data = fh.read(n)
            bar.update(len(data))
            return data

        # No size cap here: the operator chose the file; it is streamed batch by batch.
        chunks = parsers.read_chunks(read, chunk_size=1024 * 1024)
        chunks = parsers.gunzip(chunks) if gz else chunks
        rows = 0

        def on_batch(last_line: int, n: int) -> None:
            nonlocal rows
            rows += n
            bar.set_postfix(lines=f"{last_line:,}", rows=f"{rows:,}")

        try:
            summary = services.import_file(organisation=org, actor=None, chunks=chunks, fmt=fmt, tz=tz,
                                           filename=os.path.basename(name), on_batch=on_batch)  # fmt: skip
        except parsers.ReadProblem as exc:
            bar.close()
            detail = "; ".join(f"line {e['line']}: {e['field']}: {e['reason']}" for e in exc.errors or [])
            raise CommandError(f"{exc.title}: {exc.detail}{' — ' + detail if detail else ''}") from exc
        finally:
            if fh is not sys.stdin.buffer:
                fh.close()
        bar.close()
        u = summary.upload
        self.stdout.write(
            f"upload {u.id}: {u.lines:,} lines, {u.accepted:,} accepted, {u.duplicates:,} duplicates, "
            f"{u.rejected:,} rejected in {summary.batches} batch(es)"
        )
        for r in u.first_rejects[:10]:
            self.stdout.write(f"  line {r['line']}: {r['field'] or '-'}: {r['reason']}")
        if u.rejects_path:
            self.stdout.write(f"  all rejects: {Path(settings.MEDIA_ROOT) / u.rejects_path}")
