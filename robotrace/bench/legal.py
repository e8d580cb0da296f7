"""Evidence package build time for a large campaign.

Inserts (inside a transaction that is rolled back at the end) one campaign with N completed
tracebacks of four hops each and M call reports, then times the full evidence package
(declaration exhibit PDF with every hop, CSV exhibits, manifest, certification, zip) against
the floor: reading the same rows and writing the same CSV tables into a zip, with no PDF.
It also builds the package twice and reports whether both hashes agree (determinism).

    robotrace bench legal --tracebacks 500 --reports 20000
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from robotrace.bench.harness import rolled_back

Progress = Callable[[str], None]


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--tracebacks", type=int, default=500)
    parser.add_argument("--reports", type=int, default=20_000)


def _seed(n_tb: int, n_reports: int, progress: Progress) -> int:
    from robotrace.accounts.models import Organisation
    from robotrace.campaigns.models import Campaign
    from robotrace.ingest.models import CallReport
    from robotrace.providers.models import Provider
    from robotrace.tracebacks.models import Hop, Traceback

    base = datetime(2026, 1, 5, tzinfo=UTC)
    reporter = Organisation.objects.create(name="Bench reporter", slug=f"bench-reporter-{time.time_ns()}", kind="reporter", reporter_type="honeypot")
    campaign = Campaign.objects.create(name="Bench campaign", category="auto_warranty", status="confirmed", representative_transcript="Final notice about your vehicle warranty. Press one.", first_seen_at=base, last_seen_at=base + timedelta(days=30))
    providers = [Provider.objects.create(name=f"Bench provider {i}", frn=f"99{i:08d}", ocns=[f"B{i:03d}"]) for i in range(12)]
    progress(f"inserting {n_reports} call reports")
    batch = []
    for i in range(n_reports):
        at = base + timedelta(minutes=3 * i)
        batch.append(CallReport(reporter=reporter, source_report_id=f"bench-{i}", report_type="honeypot", received_at=at, call_started_at=at,
                                calling_number="+12025550100", calling_number_e164="+12025550100", called_number=f"+1919{5550000 + i % 9999:07d}",
                                called_state=["NC", "OH", "TX", "CA"][i % 4], duration_seconds=5 + i % 40, campaign=campaign))
        if len(batch) >= 5000:
            CallReport.objects.bulk_create(batch)
            batch = []
    CallReport.objects.bulk_create(batch)
    progress(f"inserting {n_tb} tracebacks x 4 hops")
    hops = []
    for i in range(n_tb):
        at = base + timedelta(hours=i)
        tb = Traceback.objects.create(campaign=campaign, call_started_at=at, calling_number="+12025550100", called_number="+19195550123",
                                      created_at=at, status="completed", outcome="origin_and_customer", originating_provider=providers[i % 4 + 8],
                                      originating_customer={"name": f"Customer {i % 7}"}, completed_at=at + timedelta(hours=30))
        chain = [providers[i % 4], providers[i % 4 + 4], providers[(i + 1) % 4 + 4], providers[i % 4 + 8]]
        for seq, prov in enumerate(chain, start=1):
            rec = at + timedelta(hours=2 * seq)
            hops.append(Hop(traceback=tb, sequence=seq, provider=prov, named_by=chain[seq - 2] if seq > 1 else None, status="answered",
                            received_at=rec, clock_starts_at=rec, due_at=rec + timedelta(hours=24), answered_at=rec + timedelta(hours=1),
                            response="originated" if seq == 4 else "upstream", upstream_provider=chain[seq] if seq < 4 else None,
                            customer={"name": f"Customer {i % 7}"} if seq == 4 else {}, attestation_seen="A"))
    Hop.objects.bulk_create(hops, batch_size=5000)
    return int(campaign.pk)


def _floor(campaign_id: int) -> None:
    """Read the same rows and write the same CSV tables into a zip: what any export must do."""
    from robotrace.legal import records
    from robotrace.legal.packaging import build_zip, csv_bytes

    rs = records.select_for_package(campaign_id=campaign_id, traceback_ids=[])
    t = records.build_tables(rs, mask_called=True, include_reports=False)
    days, states, _ = records.volume(rs)
    notices = records.notice_history(rs.org, set(t.provider_roles), through=None)
    build_zip({
        "a.csv": csv_bytes(records.TRACEBACK_HEADER, t.tracebacks), "b.csv": csv_bytes(records.HOP_HEADER, t.hops),
        "c.csv": csv_bytes(records.NOTICE_HEADER, notices), "d.csv": csv_bytes(["d", "n"], days), "e.csv": csv_bytes(["s", "n"], states),
    }, folder="floor")


def run(options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from robotrace.legal.evidence import build

    with rolled_back():
        campaign_id = _seed(options["tracebacks"], options["reports"], progress)
        progress("floor: tables + CSV + zip")
        t0 = time.perf_counter()
        _floor(campaign_id)
        floor = time.perf_counter() - t0
        progress("evidence package (1st)")
        t0 = time.perf_counter()
        first = build(campaign_id=campaign_id, traceback_ids=[])
        measured = time.perf_counter() - t0
        progress("evidence package (2nd, determinism)")
        second = build(campaign_id=campaign_id, traceback_ids=[])
        result = {
            "benchmark": "legal-evidence",
            "tracebacks": options["tracebacks"],
            "hops": options["tracebacks"] * 4,
            "reports": options["reports"],
            "seconds": round(measured, 3),
            "baseline_seconds": round(floor, 3),
            "ratio": round(measured / floor, 2) if floor else None,
            "zip_bytes": len(first.data),
            "deterministic": first.sha256 == second.sha256,
        }
    return result
