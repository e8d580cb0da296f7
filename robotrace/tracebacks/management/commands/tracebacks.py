"""`robotrace tracebacks SUBCOMMAND`: number blocks, the sweeper, automatic tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.tracebacks import services, sweeper


class Command(BaseCommand):
    help = "Traceback administration: import-number-blocks FILE.csv, sweep, catch-up"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-number-blocks", help="CSV with prefix (or npa_nxx) and provider (id, SPC, OCN, FRN or name)")
        imp.add_argument("file")
        sw = sub.add_parser("sweep", help="run the 24-hour clock sweeper once")
        sw.add_argument("--now", default="", help="ISO time to sweep as of (simulations and benchmarks)")
        sub.add_parser("catch-up", help="open automatic tracebacks for campaign events not yet handled")

    def handle(self, *args: Any, **o: Any) -> None:
        if o["action"] == "import-number-blocks":
            path = Path(o["file"])
            if not path.exists():
                raise CommandError(f"{path} does not exist")
            try:
                result = services.import_number_blocks(actor=None, text=path.read_text(encoding="utf-8-sig"), source=path.name)
            except services.TracebackError as exc:
                raise CommandError(exc.message) from exc
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path} is not UTF-8 text") from exc
            self.stdout.write(json.dumps(result))
        elif o["action"] == "sweep":
            from datetime import datetime

            now = datetime.fromisoformat(o["now"]) if o["now"] else None
            if now is not None and now.tzinfo is None:
                raise CommandError("--now needs a UTC offset")
            self.stdout.write(json.dumps(sweeper.sweep(now=now)))
        else:
            from robotrace.tracebacks import automation

            self.stdout.write(json.dumps({"handled": automation.catch_up_campaign_events()}))
