"""`robotrace provider-agent`: answer hop requests automatically from your own call records.

A plain command line (no Django settings, no database): `robotrace.cli` hands it the
arguments, and `python -m robotrace.agent` runs it too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from robotrace.agent.client import Agent, ApiClient
from robotrace.agent.records import load_records


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="robotrace provider-agent",
        description="Reference provider agent: finds each hop request's call in your records and answers over the API.",
    )
    p.add_argument("--url", required=True, help="Robotrace base URL, e.g. https://robotrace.example")
    p.add_argument("--key", default=os.environ.get("ROBOTRACE_AGENT_KEY", ""), help="API key with scope traceback:respond")
    p.add_argument("--records", required=True, help="FILE.csv, sqlite:///path?table=T or postgresql://…?table=T")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--webhook-port", type=int, help="listen for signed webhooks on this port")
    mode.add_argument("--poll", type=float, default=None, help="poll for open requests every N seconds")
    p.add_argument("--webhook-secret", default=os.environ.get("ROBOTRACE_WEBHOOK_SECRET", ""), help="whsec_… shared secret (or env ROBOTRACE_WEBHOOK_SECRET)")
    p.add_argument("--skew-minutes", type=int, default=5, help="clock skew tolerated between the request and your CDRs")
    p.add_argument("--zone", default="UTC", help="time zone of record times written without an offset")
    p.add_argument("--once", action="store_true", help="answer what is open now and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(message)s")
    if not args.key:
        return _fail("--key (or ROBOTRACE_AGENT_KEY) is required")
    try:
        loader = lambda: load_records(args.records, skew_minutes=args.skew_minutes, default_zone=args.zone)  # noqa: E731
        agent = Agent(ApiClient(args.url, args.key), loader)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    sys.stderr.write(f"{agent.records.count} call records loaded from {args.records}\n")
    if args.once:
        n = agent.poll_once()
        sys.stdout.write(f"answered {agent.answered} of {n} open hop requests\n")
        return 0
    if args.webhook_port:
        if not args.webhook_secret:
            return _fail("--webhook-secret is required to verify webhook signatures")
        agent.serve_webhooks(args.webhook_port, args.webhook_secret)
        sys.stderr.write(f"listening for hop requests on port {args.webhook_port}\n")
        interval = 300.0  # a slow catch-up poll in case a webhook was missed
    else:
        interval = args.poll or 30.0
    while True:
        try:
            agent.poll_once()
        except Exception as exc:  # keep running through network errors
            sys.stderr.write(f"poll failed: {exc}\n")
        time.sleep(interval)


def _fail(message: str) -> int:
    sys.stderr.write(f"robotrace provider-agent: {message}\n")
    return 1
