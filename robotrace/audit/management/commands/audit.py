from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.audit import anchors, chain
from robotrace.audit.queries import check_chain


class Command(BaseCommand):
    help = ("Audit trail tools: `verify` checks the keyed hash chain and every anchor outside the database, "
            "`anchor` writes a signed checkpoint of the chain head now, `new-key` prints a key for AUDIT_CHAIN_KEY.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="detect any edited, deleted or rewritten audit event, checked against the anchors")
        sub.add_parser("anchor", help="write a signed checkpoint of the chain head to AUDIT_ANCHOR_DIR now")
        sub.add_parser("new-key", help="print a fresh key for AUDIT_CHAIN_KEY (put it first; keep the old ones)")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "verify":
            report = check_chain()
            if report.problems:
                for p in report.problems:
                    where = f"event {p.event_id}" if p.event_id is not None else "chain"
                    self.stderr.write(f"{where}: {p.reason}")
                raise CommandError(f"audit chain is broken: {len(report.problems)} problem(s)")
            self.stdout.write(json.dumps({"ok": True, "events": report.events, "keyed_events": report.keyed_events,
                                          "anchors": report.anchors}))  # fmt: skip
        elif verb == "anchor":
            doc = anchors.write_anchor(force=True)
            self.stdout.write(json.dumps(doc if doc is not None else {"anchored": None, "reason": "the chain is empty"}))
        elif verb == "new-key":
            self.stdout.write(chain.new_key())
