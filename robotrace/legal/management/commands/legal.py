"""`robotrace legal sweep` runs the deadline, hold-reminder and expiry sweeps now;
`robotrace legal verify FILE.zip` re-hashes a production or package against its manifest;
`robotrace legal holds` lists active preservation holds. (The evidence-package benchmark is
`robotrace bench legal`.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Legal requests: sweeps, manifest verification, holds"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="mark due-soon/overdue requests, remind holds, purge expired productions")
        verify = sub.add_parser("verify", help="check every file of a bundle against MANIFEST.sha256")
        verify.add_argument("zip", type=Path)
        sub.add_parser("holds", help="list active preservation holds")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "sweep":
            from robotrace.legal import services

            counts: dict[str, Any] = dict(services.sweep_due())
            counts["hold_reminders"] = services.sweep_holds()
            counts["purged_productions"] = services.purge_expired_productions()
            self.stdout.write(json.dumps(counts))
        elif action == "verify":
            from robotrace.legal.packaging import verify_zip

            path: Path = opts["zip"]
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            problems = verify_zip(path.read_bytes())
            if problems:
                raise CommandError("; ".join(problems))
            self.stdout.write(f"{path}: every file matches MANIFEST.sha256")
        elif action == "holds":
            from robotrace.legal.queries import active_holds

            for h in active_holds().select_related("agency", "request").order_by("expires_at"):
                ref = h.request.ref if h.request else "-"
                self.stdout.write(f"{h.kind:10} {h.object_key:16} until {h.expires_at:%Y-%m-%d}  {h.agency.name} {ref}")
