from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.audit.queries import verify_chain


class Command(BaseCommand):
    help = "Audit trail tools: `robotrace audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="detect any edited or deleted audit event")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "verify":
            problems = verify_chain()
            if problems:
                for p in problems:
                    self.stderr.write(f"event {p.event_id}: {p.reason}")
                raise CommandError(f"audit chain is broken: {len(problems)} problem(s)")
            self.stdout.write(json.dumps({"ok": True}))
