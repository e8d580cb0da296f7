"""`robotrace provider-agent`: answer hop requests automatically from your own call records."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.tracebacks.agent import Agent, ApiClient, load_records


class Command(BaseCommand):
    help = "Reference provider agent: finds each hop request's call in your records and answers over the API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="Robotrace base URL, e.g. https://robotrace.example")
        parser.add_argument("--key", default=os.environ.get("ROBOTRACE_AGENT_KEY", ""), help="API key with scope traceback:respond")
        parser.add_argument("--records", required=True, help="FILE.csv, sqlite:///path?table=T or postgresql://…?table=T")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--webhook-port", type=int, help="listen for signed webhooks on this port")
        mode.add_argument("--poll", type=float, default=None, help="poll for open requests every N seconds")
        parser.add_argument("--webhook-secret", default=os.environ.get("ROBOTRACE_WEBHOOK_SECRET", ""), help="whsec_… shared secret (or env ROBOTRACE_WEBHOOK_SECRET)")
        parser.add_argument("--skew-minutes", type=int, default=5, help="clock skew tolerated between the request and your CDRs")
        parser.add_argument("--zone", default="UTC", help="time zone of record times written without an offset")
        parser.add_argument("--once", action="store_true", help="answer what is open now and exit")

    def handle(self, *args: Any, **o: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(message)s")
        if not o["key"]:
            raise CommandError("--key (or ROBOTRACE_AGENT_KEY) is required")
        try:
            loader = lambda: load_records(o["records"], skew_minutes=o["skew_minutes"], default_zone=o["zone"])  # noqa: E731
            agent = Agent(ApiClient(o["url"], o["key"]), loader)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"{agent.records.count} call records loaded from {o['records']}")
        if o["once"]:
            n = agent.poll_once()
            self.stdout.write(f"answered {agent.answered} of {n} open hop requests")
            return
        if o["webhook_port"]:
            if not o["webhook_secret"]:
                raise CommandError("--webhook-secret is required to verify webhook signatures")
            agent.serve_webhooks(o["webhook_port"], o["webhook_secret"])
            self.stderr.write(f"listening for hop requests on port {o['webhook_port']}")
            interval = 300.0  # a slow catch-up poll in case a webhook was missed
        else:
            interval = o["poll"] or 30.0
        while True:
            try:
                agent.poll_once()
            except Exception as exc:  # keep running through network errors
                self.stderr.write(f"poll failed: {exc}")
            time.sleep(interval)
