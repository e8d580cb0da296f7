"""The benchmark registry behind `robotrace bench NAME`.

Each benchmark is a module with `add_arguments(parser)` and `run(options, progress) -> dict`.
The command prints exactly one JSON line on stdout; progress goes to stderr. Every
benchmark measures its own baseline (the floor) in the same run and reports the ratio,
because shared machines are noisy.
"""

from __future__ import annotations

BENCHMARKS: dict[str, str] = {
    "ingest": "robotrace.ingest.bench",
    "campaigns": "robotrace.campaigns.bench",
    "campaigns-quality": "robotrace.campaigns.bench_quality",
    "traceback": "robotrace.tracebacks.bench",
    "scorecards": "robotrace.providers.bench",
    "shaken": "robotrace.shaken.bench",
    "legal": "robotrace.legal.bench",
    "alerts": "robotrace.alerts.bench",
}
