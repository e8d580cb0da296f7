"""Test helpers: store generated or hand-written reports as CallReport rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils import timezone

from robotrace.core import phones
from robotrace.ingest.models import CallReport


def store_reports(reporter: Any, calls: list[dict[str, Any]]) -> list[CallReport]:
    """Insert reports directly (what ingest's writer does), without running the engine."""
    out = []
    now = timezone.now()
    for i, c in enumerate(calls):
        at = c.get("call_started_at") or now
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        out.append(
            CallReport.objects.create(
                **({"id": c["id"]} if "id" in c else {}),
                reporter=reporter,
                source_report_id=c.get("source_report_id") or f"t-{now.timestamp()}-{i}",
                report_type=c.get("report_type", "honeypot"),
                received_at=now,
                call_started_at=at,
                calling_number=c.get("calling_number", ""),
                calling_number_e164=phones.normalise(c.get("calling_number", "")),
                called_number=c.get("called_number", ""),
                called_state=c.get("called_state", ""),
                transcript=c.get("transcript", ""),
                recording_sha256=c.get("recording_sha256", ""),
                callback_numbers=c.get("callback_numbers", []),
                upstream_provider=c.get("upstream_provider", ""),
            )
        )
    return out


def ndjson(calls: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(c) for c in calls).encode()
