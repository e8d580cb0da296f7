"""Campaign engine throughput: cluster N synthetic robocall reports.

Generates N reports with robotrace.simulator.robocalls (deterministic), then feeds them to
the campaign engine (`campaigns.engine.Engine`, the class the platform's DB store and the
`cluster` command wrap) in upload-sized batches, and measures:

- total engine time and reports/s over the whole run;
- the incremental rate over the last 10% of reports (index warm and full, which is the
  steady state the platform runs in);
- peak memory (max RSS of the process, generation included);
- in the same run, the floor: exact-duplicate grouping alone (normalise + hash + dict) on
  the same reports, the cheapest possible campaign grouping, and the ratio to it.
"""

from __future__ import annotations

import csv
import gc
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--reports", type=int, default=100_000, help="how many synthetic reports (e.g. 1000000)")
    parser.add_argument("--batch", type=int, default=1000, help="reports per engine batch (an upload)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--copies", type=int, default=4, help="independent operators per script (more campaigns)")
    parser.add_argument("--db-reports", type=int, default=0, help="also time the database path on this many reports (via `campaigns cluster`)")


def _inputs(n: int, seed: int, days: int, copies: int) -> tuple[list[Any], list[str]]:
    from robotrace.campaigns.engine import ReportIn
    from robotrace.simulator.robocalls import generate

    reports: list[ReportIn] = []
    truth: list[str] = []
    for c in generate(n, seed=seed, days=days, copies=copies):
        reports.append(ReportIn(
            id=len(reports),
            transcript=c.get("transcript", ""),
            calling_number=c["calling_number"],
            called_number=c["called_number"],
            called_state=c["called_state"],
            call_started_at=datetime.fromisoformat(c["call_started_at"]),
            callback_numbers=c.get("callback_numbers", ()),
            recording_sha256=c.get("recording_sha256", ""),
        ))
        truth.append(c["true_campaign"])
    return reports, truth


def run(options: dict[str, Any], progress: Any) -> dict[str, Any]:
    from robotrace.campaigns.engine import MemoryStore
    from robotrace.campaigns.textsim import normalise, text_hash

    n, batch = options["reports"], max(1, options["batch"])
    progress(f"generating {n:,} synthetic reports...")
    t0 = time.perf_counter()
    reports, truth = _inputs(n, options["seed"], options["days"], options["copies"])
    gen_s = time.perf_counter() - t0

    # Floor: exact-duplicate grouping only, same reports, same process.
    progress("floor: exact-duplicate grouping...")
    gc.collect()
    t0 = time.perf_counter()
    groups: dict[str, int] = {}
    for r in reports:
        if r.transcript:
            groups.setdefault(text_hash(normalise(r.transcript)), len(groups))
    floor_s = time.perf_counter() - t0

    progress("engine: MinHash LSH over exemplars + containment check + links...")
    gc.collect()
    st = MemoryStore()
    tail_from = n - max(1, n // 10)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    t_tail, c_tail = t0, cpu0
    assignments = []
    for i in range(0, n, batch):
        if i <= tail_from < i + batch:
            t_tail, c_tail = time.perf_counter(), time.process_time()
        assignments.extend(st.assign_batch(reports[i : i + batch]))
        if (i // batch) % 100 == 0 and i:
            progress(f"  {i:,} reports, {st.next_id - 1:,} campaigns, {time.perf_counter() - t0:.0f} s")
    total_s = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    tail_s = time.perf_counter() - t_tail
    tail_cpu = time.process_time() - c_tail
    tail_n = n - (tail_from // batch) * batch

    db: dict[str, Any] = {}
    if options.get("db_reports"):
        db = _db_path(reports[: options["db_reports"]], progress)

    methods: dict[str, int] = {}
    for a in assignments:
        methods[a.method] = methods.get(a.method, 0) + 1
    from sklearn import metrics  # here, not at the top: only this figure needs it, and it loads slowly

    quality: dict[str, Any] = {}
    # Operators that play the same script are one campaign by the design's definition
    # (same recording, same text); score against the script.
    pairs = [(t.split("#")[0], a.campaign_id) for t, a in zip(truth, assignments, strict=True) if a.campaign_id is not None]
    if pairs:
        lab, pred = zip(*pairs, strict=True)
        h, c, v = metrics.homogeneity_completeness_v_measure(lab, pred)
        quality = {"homogeneity": round(h, 4), "completeness": round(c, 4), "v_measure": round(v, 4), "assigned_share": round(len(pairs) / n, 4)}
    return {
        "benchmark": "campaigns",
        "reports": n,
        "campaigns": st.next_id - 1,
        "true_scripts": len({t.split("#")[0] for t in truth}),
        "exemplars": len(st.engine.exemplars),
        "distinct_texts": len(st.engine.texts),
        "total_seconds": round(total_s, 1),
        "reports_per_second": round(n / total_s),
        # The machine is shared: CPU seconds show what the engine costs without contention.
        "engine_cpu_seconds": round(cpu_s, 1),
        "reports_per_cpu_second": round(n / cpu_s) if cpu_s else None,
        "incremental_reports_per_second": round(tail_n / tail_s) if tail_s else None,
        # Same last 10%, per CPU second of this process: the rate without the wait for a core.
        "incremental_reports_per_cpu_second": round(tail_n / tail_cpu) if tail_cpu else None,
        "floor_exact_dedup_seconds": round(floor_s, 2),
        "ratio_to_floor": round(total_s / floor_s, 1) if floor_s else None,
        "generation_seconds": round(gen_s, 1),
        "methods": methods,
        "db_path": db,
        "quality_vs_generator_truth": quality,
        "targets_met": {"1M_under_10_min": n < 1_000_000 or total_s < 600, "incremental>=5000/s": (tail_n / tail_s if tail_s else 0) >= 5000},
    }


def _db_path(reports: list[Any], progress: Any) -> dict[str, Any]:
    """The platform's path: `campaigns cluster` stores the reports in an empty temporary
    SQLite database and runs the DB-backed engine (transactions of 5,000 reports writing
    assignments, index rows, counters and events)."""
    progress(f"database path: `campaigns cluster` on {len(reports):,} reports...")
    seconds, _ = cluster(["report_id", "transcript", "calling_number", "call_started_at", "callback_number"],
                         ([f"r{r.id}", r.transcript, r.calling_number, r.call_started_at.isoformat(), ",".join(r.callback_numbers)] for r in reports))
    return {"reports": len(reports), "seconds_incl_migrate_and_load": round(seconds, 1), "reports_per_second": round(len(reports) / seconds)}


def cluster(header: list[str], rows: Iterable[list[Any]]) -> tuple[float, dict[str, dict[str, str]]]:
    """Run `robotrace campaigns cluster` (the platform's engine on an empty temporary
    database, what an independent evaluator runs) on these CSV rows: the seconds it took,
    and its output rows by report_id."""
    from robotrace.campaigns.management.commands.campaigns import Command

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with src.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        t0 = time.perf_counter()
        Command().cluster(src, out, keep=False)
        seconds = time.perf_counter() - t0
        with out.open(newline="", encoding="utf-8") as fh:
            return seconds, {r["report_id"]: r for r in csv.DictReader(fh)}
