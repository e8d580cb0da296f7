"""The benchmark registry behind `robotrace bench NAME`.

Each benchmark is a module with `add_arguments(parser)` and `run(options, progress) -> dict`.
The command prints exactly one JSON line on stdout; progress goes to stderr. Every
benchmark measures its own baseline (the floor) in the same run and reports the ratio,
because shared machines are noisy.
"""

from __future__ import annotations

BENCHMARKS: dict[str, str] = {
    "ingest": "robotrace.bench.ingest",
    "campaigns": "robotrace.bench.campaigns",
    "campaigns-quality": "robotrace.bench.campaigns_quality",
    "traceback": "robotrace.bench.tracebacks",
    "scorecards": "robotrace.bench.scorecards",
    "shaken": "robotrace.bench.shaken",
    "legal": "robotrace.bench.legal",
    "alerts": "robotrace.bench.alerts",
}
