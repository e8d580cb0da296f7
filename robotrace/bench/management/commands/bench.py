from __future__ import annotations

import json
from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from robotrace.bench.harness import peak_rss_mb, progress
from robotrace.bench.registry import BENCHMARKS


class Command(BaseCommand):
    help = "Run a benchmark and print one JSON line: " + ", ".join(sorted(BENCHMARKS))

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="benchmark", required=True)
        for name, module_path in sorted(BENCHMARKS.items()):
            module = import_module(module_path)
            p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "")
            module.add_arguments(p)

    def handle(self, *args: Any, **options: Any) -> None:
        module = import_module(BENCHMARKS[options["benchmark"]])
        result = module.run(options, progress)
        result.setdefault("peak_rss_mb", peak_rss_mb())
        self.stdout.write(json.dumps(result))
