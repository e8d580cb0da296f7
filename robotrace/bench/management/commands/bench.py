from __future__ import annotations

import json
import resource
import sys
from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.bench.registry import BENCHMARKS


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Command(BaseCommand):
    help = "Run a benchmark and print one JSON line: " + ", ".join(sorted(BENCHMARKS))

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="benchmark", required=True)
        for name, module_path in sorted(BENCHMARKS.items()):
            try:
                module = import_module(module_path)
            except ModuleNotFoundError:
                continue
            p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "")
            module.add_arguments(p)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["benchmark"]
        try:
            module = import_module(BENCHMARKS[name])
        except (KeyError, ModuleNotFoundError) as exc:
            raise CommandError(f"no benchmark named {name!r}") from exc
        result = module.run(options, progress)
        result.setdefault("peak_rss_mb", peak_rss_mb())
        self.stdout.write(json.dumps(result))
