"""`robotrace campaigns cluster INPUT.csv --output OUTPUT.csv` and `robotrace campaigns sweep`.

`cluster` runs the platform's own engine (campaigns.store over campaigns.engine, the code
the Huey tasks run) on an empty temporary SQLite database, in a child process pointed at a
temporary var directory, fully offline. The input is checked first: a bad file stops with
an error naming the line and the field, and nothing is written. The output is written to a
temporary file and moved into place only when complete.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

REQUIRED = ("report_id", "transcript")
OPTIONAL = ("language", "calling_number", "call_started_at", "callback_number")
# Reports without a time keep their file order: one second apart from this instant.
BASE_TIME = datetime(2020, 1, 1, tzinfo=UTC)


def read_input(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    csv.field_size_limit(10_000_000)
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise CommandError(f"{path}: line 1: missing column(s) {', '.join(missing)} (have: {', '.join(header) or 'none'})")
        reader.fieldnames = header
        for line_no, raw in enumerate(reader, start=2):
            rid = (raw.get("report_id") or "").strip()
            if not rid:
                raise CommandError(f"{path}: line {line_no}: field report_id is empty")
            if len(rid) > 128:
                raise CommandError(f"{path}: line {line_no}: field report_id is longer than 128 characters")
            if rid in seen:
                raise CommandError(f"{path}: line {line_no}: field report_id {rid!r} repeats line {seen[rid]}")
            seen[rid] = line_no
            at_raw = (raw.get("call_started_at") or "").strip()
            if at_raw:
                try:
                    at = datetime.fromisoformat(at_raw.replace("Z", "+00:00"))
                except ValueError as exc:
                    raise CommandError(f"{path}: line {line_no}: field call_started_at {at_raw!r} is not an ISO 8601 time") from exc
                if at.tzinfo is None:
                    at = at.replace(tzinfo=UTC)
            else:
                at = BASE_TIME + timedelta(seconds=len(rows))
            callback = (raw.get("callback_number") or "").strip()
            rows.append({
                "report_id": rid,
                "transcript": raw.get("transcript") or "",
                "calling_number": (raw.get("calling_number") or "").strip()[:40],
                "call_started_at": at.isoformat(),
                "callback_numbers": [c for c in callback.replace(";", ",").split(",") if c.strip()][:20],
            })
    return rows


def child_env(var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "HUEY_SQLITE_PATH", "MEDIA_ROOT", "DATABASE_TEST_NAME"}}
    env.update({"ROBOTRACE_VAR_DIR": var_dir, "HUEY_IMMEDIATE": "0", "ROBOTRACE_TESTING": "0", "LOG_LEVEL": "ERROR"})
    return env


class Command(BaseCommand):
    help = "Campaign engine tools: cluster a CSV offline with the platform's engine; run the catch-up sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        c = sub.add_parser("cluster", help="Cluster report transcripts: INPUT.csv -> report_id,campaign_id,category")
        c.add_argument("input", type=Path)
        c.add_argument("--output", "-o", type=Path, required=True)
        c.add_argument("--keep-db", action="store_true", help="Keep the temporary database (prints its folder)")
        w = sub.add_parser("cluster-worker", help="(internal) the child process of `cluster`")
        w.add_argument("rows", type=Path)
        w.add_argument("output", type=Path)
        sub.add_parser("sweep", help="Assign every report not yet considered (the periodic task, run now)")

    def handle(self, *args: Any, **options: Any) -> None:
        sub = options["sub"]
        if sub == "cluster":
            self.cluster(options["input"], options["output"], keep=options["keep_db"])
        elif sub == "cluster-worker":
            self.worker(options["rows"], options["output"])
        elif sub == "sweep":
            from robotrace.campaigns import store

            self.stdout.write(json.dumps(store.catch_up()))

    def cluster(self, src: Path, out: Path, *, keep: bool) -> None:
        rows = read_input(src)
        if not out.parent.exists():
            raise CommandError(f"{out.parent}: output folder does not exist")
        tmp = tempfile.mkdtemp(prefix="robotrace-cluster-")
        try:
            rows_path = Path(tmp) / "rows.ndjson"
            with rows_path.open("w", encoding="utf-8") as fh:
                for r in rows:
                    fh.write(json.dumps(r) + "\n")
            partial = Path(tmp) / "out.csv"
            started = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "robotrace.cli", "campaigns", "cluster-worker", str(rows_path), str(partial)],
                env=child_env(tmp), capture_output=True, text=True, check=False,
                cwd=str(settings.BASE_DIR),  # so `-m robotrace.cli` imports this checkout
            )
            if proc.returncode != 0:
                raise CommandError(f"clustering failed:\n{proc.stderr.strip()[-3000:]}")
            _move(partial, out)
            self.stderr.write(f"{len(rows)} reports clustered in {time.monotonic() - started:.1f} s; {proc.stderr.strip()}")
        finally:
            if keep:
                self.stderr.write(f"temporary database kept in {tmp}")
            else:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)

    def worker(self, rows_path: Path, out: Path) -> None:
        """Runs in the child: an empty database, the platform's engine, then the answer."""
        from django.core.management import call_command
        from django.db import transaction

        from robotrace.accounts import services as accounts
        from robotrace.campaigns import store
        from robotrace.campaigns.models import Campaign
        from robotrace.core import phones
        from robotrace.ingest import queries as ingest_queries
        from robotrace.ingest import services as ingest

        call_command("migrate", verbosity=0, interactive=False)
        reporter = accounts.create_organisation(actor=None, name="Evaluation input", kind="reporter", slug="evaluation", reporter_type="honeypot")
        now = datetime.now(UTC)
        order: list[str] = []
        def rows() -> Iterator[dict[str, Any]]:
            for line in rows_path.open(encoding="utf-8"):
                r = json.loads(line)
                order.append(r["report_id"])
                yield {
                    "source_report_id": r["report_id"], "report_type": "honeypot", "received_at": now,
                    "call_started_at": datetime.fromisoformat(r["call_started_at"]), "calling_number": r["calling_number"],
                    "calling_number_e164": phones.normalise(r["calling_number"]), "transcript": r["transcript"],
                    "callback_numbers": r["callback_numbers"],
                }

        with transaction.atomic():
            ingest.add_reports(reporter=reporter, rows=rows())
        totals = store.catch_up()
        assigned = dict(ingest_queries.all_reports(reason="cluster output").values_list("source_report_id", "campaign_id"))
        categories = dict(Campaign.objects.unscoped(reason="cluster output").values_list("pk", "category"))
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["report_id", "campaign_id", "category"])
            for rid in order:
                cid = assigned.get(rid)
                w.writerow([rid, cid if cid is not None else "", categories.get(cid, "") if cid is not None else ""])
        sys.stderr.write(f"{totals['created']} campaigns")


def _move(a: Path, b: Path) -> None:
    import shutil

    tmp = b.with_name(f".{b.name}.partial")
    shutil.copyfile(a, tmp)
    os.replace(tmp, b)
