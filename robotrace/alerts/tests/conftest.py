"""Helpers for alerts tests: real rows for campaigns, reports, events and tracebacks, and a
local HTTP server on 127.0.0.1 that records webhook requests."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from robotrace.campaigns.models import Campaign, CampaignEvent
from robotrace.ingest.models import CallReport

_seq = itertools.count(1)

TRANSCRIPT = "This is the Social Security Administration. Your benefits are suspended, press one now."


def make_campaign(name: str = "SSA suspension", category: str = "ssa_impersonation") -> Campaign:
    now = timezone.now()
    return Campaign.objects.create(name=name, category=category, first_seen_at=now - timedelta(days=2), last_seen_at=now,
                                   representative_transcript=TRANSCRIPT)


def add_reports(campaign: Campaign, reporter: Any, n: int, *, state: str = "NC", npa: str = "919",
                caller: str = "+12025550100", callbacks: list[str] | None = None, days_ago: int = 0) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    CallReport.objects.bulk_create([
        CallReport(
            reporter=reporter, source_report_id=f"r-{next(_seq)}", report_type="app_report", received_at=at,
            call_started_at=at - timedelta(minutes=i), calling_number=caller, calling_number_e164=caller,
            called_number=f"+1{npa}555{next(_seq) % 10000:04d}", called_state=state, transcript=TRANSCRIPT,
            callback_numbers=list(callbacks or []), campaign=campaign, category="ssa",
        )
        for i in range(n)
    ])


def make_event(campaign: Campaign, kind: str = "volume", **extra: Any) -> CampaignEvent:
    fields = {f.name for f in CampaignEvent._meta.get_fields()}
    if "dedup_key" in fields:
        extra.setdefault("dedup_key", f"{kind}:{next(_seq)}")
    return CampaignEvent.objects.create(campaign=campaign, kind=kind, at=timezone.now(), data={"reports": campaign.report_count}, **extra)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.url = ""


@pytest.fixture
def hook_server() -> Iterator[Recorder]:
    """A real HTTP server on 127.0.0.1 answering `recorder.status` and keeping each request."""
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            rec.requests.append({"headers": dict(self.headers.items()), "body": body, "path": self.path})
            self.send_response(rec.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/robotrace"
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
