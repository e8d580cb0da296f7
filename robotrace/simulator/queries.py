"""Reads for the simulator app: how the platform's outcomes compare with the truth."""

from __future__ import annotations

from typing import Any

from robotrace.ingest.queries import all_reports
from robotrace.tracebacks import queries as tracebacks


def accuracy() -> dict[str, Any]:
    """Completed tracebacks of simulated calls whose origin (or point of entry) matches."""
    from robotrace.simulator.models import SimulatedCall

    rows = tracebacks.completed_samples(limit=2000)
    if not rows:
        return {"checked": 0}
    source = dict(all_reports(reason="simulator accuracy").filter(id__in=[r[0] for r in rows]).values_list("id", "source_report_id"))
    truth = dict(SimulatedCall.objects.filter(source_report_id__in=source.values()).values_list("source_report_id", "true_origin_id"))
    checked = correct = 0
    for report_id, outcome, origin, poe in rows:
        true = truth.get(source.get(report_id, ""))
        if true is None or outcome not in ("origin_and_customer", "origin_only", "foreign_origin"):
            continue
        checked += 1
        correct += (origin or poe) == true
    return {"checked": checked, "correct": correct}
