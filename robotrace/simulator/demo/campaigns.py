"""Demo seeder: a few thousand generated robocall reports, ingested the way reporters send
them (ingest's own service), then assigned to campaigns so the demo has campaigns, trends
and an ecosystem on first start. One campaign surges in the last day."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.utils import timezone

logger = logging.getLogger("robotrace.campaigns")

# Which demo reporter sends which kind of report.
REPORTER_FOR = {
    "honeypot": "honeynet",
    "app_report": "callshield",
    "carrier_analytics": "keystone-analytics",
    "complaint": "complaints",
}


def _ingest(world: Any, calls: list[dict[str, Any]]) -> int:
    from robotrace.ingest import services as ingest
    from robotrace.simulator.robocalls import ingest_fields

    by_reporter: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in calls:
        by_reporter[REPORTER_FOR[c["report_type"]]].append(ingest_fields(c))
    accepted = 0
    for slug, rows in by_reporter.items():
        org = world.orgs.get(slug)
        if org is None:
            continue
        for i in range(0, len(rows), 1000):
            chunk = "\n".join(json.dumps(r) for r in rows[i : i + 1000]).encode()
            try:
                upload = ingest.receive(organisation=org, actor=None, chunks=[chunk], fmt="ndjson")
            except Exception as exc:  # the demo must start even if ingest changes shape
                logger.warning("campaign demo: upload for %s failed: %s", slug, exc)
                continue
            accepted += upload.accepted
            if upload.rejected:
                logger.info("campaign demo: %s rejected %s rows, e.g. %s", slug, upload.rejected, upload.first_rejects[:1])
    return accepted


def seed(world: Any, *, reports: int = 3000) -> None:
    from robotrace.campaigns import store
    from robotrace.simulator import robocalls

    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=14)
    calls = list(robocalls.generate(reports, seed=2026, start=start, days=13, id_prefix="demo"))
    # A surge: the tech-support script floods the last 24 hours.
    import random

    rng = random.Random(99)
    camps = [c for c in robocalls.build_campaigns(rng, days=1) if c.key == "tech_virus_alert"]
    calls += list(robocalls.generate(400, seed=99, start=now - timedelta(hours=23), days=1, campaigns=camps, id_prefix="demo-surge"))
    # Generator jitter can land a call past "now"; intake would rightly reject it as a
    # future time, so keep the demo's first upload free of such noise.
    calls = [c for c in calls if _started(c) <= now]
    accepted = _ingest(world, calls)
    if accepted:
        # The Huey consumer may not be running yet while the demo is seeded: assign now.
        totals = store.catch_up()
        logger.info("campaign demo: %s reports ingested, %s campaigns", accepted, totals["created"])


def _started(call: dict[str, Any]) -> Any:
    from datetime import datetime

    value = call["call_started_at"]
    return datetime.fromisoformat(value) if isinstance(value, str) else value
