"""`robotrace alerts catch-up|recheck|sweep|export-stix|status`: operate the alerts engine by
hand (the same work the periodic tasks do)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Alerts: evaluate missed campaign events, retry deliveries, export STIX, show status."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("catch-up", help="evaluate campaign events not yet handled by alerts")
        p = sub.add_parser("recheck", help="re-evaluate recent events (campaigns that grew)")
        p.add_argument("--days", type=int, default=None)
        sub.add_parser("sweep", help="attempt every due delivery now (the outbox's sweep: alerts and everything else due)")
        p = sub.add_parser("export-stix", help="write an agency's alerts as a STIX 2.1 bundle")
        p.add_argument("agency", help="organisation slug")
        p.add_argument("--out", default="-", help="file path, or - for stdout")
        sub.add_parser("status", help="counts of alerts and deliveries")

    def handle(self, *args: Any, **opts: Any) -> None:
        from robotrace.alerts import services

        action = opts["action"]
        if action == "catch-up":
            self.stdout.write(f"{services.catch_up(limit=100_000)} alert(s) created")
        elif action == "recheck":
            self.stdout.write(f"{services.recheck_recent(days=opts['days'])} alert(s) created")
        elif action == "sweep":
            from robotrace.outbox import services as outbox

            self.stdout.write(f"{outbox.sweep()} delivery attempt(s) made")
        elif action == "export-stix":
            self._export(opts["agency"], opts["out"])
        else:
            self._status()

    def _export(self, slug: str, out: str) -> None:
        from robotrace.accounts.queries import organisation_by_slug
        from robotrace.alerts import queries, stix
        from robotrace.audit import services as audit

        org = organisation_by_slug(slug)
        if org is None or not (org.is_agency or org.is_consortium):
            raise CommandError(f"no agency with slug {slug!r}")
        qs = queries.alerts_for(org)
        alerts = list((qs.filter(agency=org) if org.is_agency else qs).order_by("-created_at")[:500])
        body = stix.export_json(alerts)
        audit.record(action="alerts.stix_exported", actor_label="command line", actor_org=org, object_type="alerts.alert",
                     subject_org=org, data={"alerts": [a.pk for a in alerts], "via": "command"})
        if out == "-":
            self.stdout.write(body)
        else:
            with open(out, "w") as fh:
                fh.write(body)
            self.stderr.write(f"{len(alerts)} alert(s) written to {out}")

    def _status(self) -> None:
        from robotrace.alerts.models import Alert
        from robotrace.alerts.queries import ABOUT
        from robotrace.outbox.queries import status_counts

        alerts = Alert.objects.unscoped(reason="alerts status command")
        self.stdout.write(f"alerts: {alerts.count()} ({alerts.filter(read_at__isnull=True).count()} unread)")
        for channel, status, n in status_counts(ABOUT):
            self.stdout.write(f"  {channel:8} {status:10} {n}")
