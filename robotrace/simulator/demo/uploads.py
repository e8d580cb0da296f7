"""Demo world: two weeks of simulated robocall reports uploaded by every demo reporter,
through the real intake path (so counts, rejects files and audit events are genuine),
backdated one upload per day so the intake chart has a history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.utils import timezone

from robotrace.ingest import services
from robotrace.ingest.models import Upload
from robotrace.simulator.robocalls import generate, ingest_fields

DAYS = 14
PER_UPLOAD = {"keystone-analytics": 60, "callshield": 45, "honeynet": 30}


def _lines(slug: str, day: int, count: int, start: datetime) -> list[bytes]:
    calls = generate(count, seed=day * 31 + len(slug), start=start, days=1, id_prefix=f"demo-{slug}-{day}", complaint_share=0.0)
    lines = [orjson.dumps(ingest_fields(c)) + b"\n" for c in calls]
    if day % 4 == 0:
        # A few realistic mistakes, so the rejects download has something in it.
        lines.append(b'{"source_report_id": "broken", "report_type": "honeypot", "call_started_at": \n')
        lines.append(orjson.dumps({"source_report_id": f"bad-called-{day}", "report_type": "app_report",
                                   "call_started_at": start.isoformat(), "called_number": "555-0100"}) + b"\n")  # fmt: skip
    if day % 5 == 1:
        lines.extend(lines[:3])  # a retried tail: duplicates
    return lines


def seed(world: Any) -> None:
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    for slug, count in PER_UPLOAD.items():
        org = world.orgs.get(slug)
        if org is None:
            continue
        for day in range(DAYS, 0, -1):
            start = (today - timedelta(days=day)).astimezone(UTC)
            upload = services.receive(organisation=org, actor=None, chunks=[b"".join(_lines(slug, day, count, start))], fmt="ndjson")
            Upload.objects.unscoped(reason="demo backdating").filter(id=upload.id).update(received_at=start + timedelta(days=1, hours=-2))
