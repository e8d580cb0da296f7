"""`robotrace providers import-rmd FILE.csv [--seen-on DATE]`, and the actions apps above the
registry add (providers.cli: `robotrace providers scorecards`, `robotrace providers evaluate`)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from robotrace.providers.cli import ACTIONS


class Command(BaseCommand):
    help = "Provider registry: import the FCC RMD export, recompute scorecards, evaluate non-cooperation rules"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-rmd", help="Read an FCC Robocall Mitigation Database CSV export")
        imp.add_argument("file", help="the CSV export")
        imp.add_argument("--seen-on", help="date the export was taken (YYYY-MM-DD); default today")
        for action in ACTIONS.values():
            sub.add_parser(action.name, help=action.help)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import-rmd":
            self._import(options)
        else:
            ACTIONS[action].run(self)

    def _import(self, options: dict[str, Any]) -> None:
        from robotrace.providers.rmd import import_rmd

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            seen_on = date.fromisoformat(options["seen_on"]) if options.get("seen_on") else date.today()
        except ValueError as exc:
            raise CommandError(f"--seen-on {options['seen_on']!r} is not a date (YYYY-MM-DD)") from exc
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="latin-1")
        total = max(0, text.count("\n") - 1)
        bar = tqdm(total=total, unit="rows", file=sys.stderr, disable=not sys.stderr.isatty() and total < 5000, desc="RMD rows")
        try:
            s = import_rmd(actor=None, text=text, file_name=path.name, seen_on=seen_on, progress=bar.update)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        finally:
            bar.close()
        for col in s.unknown_columns:
            self.stderr.write(f"unknown column ignored: {col!r}")
        for bad in s.bad_lines:
            self.stderr.write(f"line {bad['line']}: {bad['field'] or 'row'}: {bad['reason']}")
        self.stdout.write(
            f"RMD export of {seen_on}: {s.rmd_import.rows} rows read, {len(s.bad_lines)} bad lines skipped; "
            f"registry: {s.listed} listed ({s.matched_by_frn} by FRN, {s.matched_by_name} by name), "
            f"{s.not_listed} not listed, {s.removed} removed; {s.unmatched_rows} RMD rows match no registry provider"
        )
