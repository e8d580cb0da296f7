"""`robotrace simulate`: the simulated telephone network.

- `--live --url URL`: run forever against a running platform (started by `robotrace run`).
- otherwise: build the network in memory and print what it looks like (routes, roles),
  optionally writing every provider's call records with `--records-dir`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone


class Command(BaseCommand):
    help = "Simulated telephone network: providers, routes, call records, reports and agents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--live", action="store_true", help="run forever against --url")
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--providers", type=int, default=240)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--seconds-per-hour", type=float, default=10.0, help="time compression of slow agents")
        parser.add_argument("--history", type=int, default=40, help="past tracebacks to create when there are none")
        parser.add_argument("--calls", type=int, default=1000)
        parser.add_argument("--records-dir", default="")

    def handle(self, *args: Any, **o: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        from robotrace.simulator.network import Network

        if o["live"]:
            from robotrace.simulator.live import LiveSimulation

            LiveSimulation(o["url"], providers=o["providers"], seed=o["seed"], seconds_per_hour=o["seconds_per_hour"],
                           history=o["history"]).run_forever()
            return
        net = Network(o["providers"], seed=o["seed"])
        calls = list(net.traffic(start=timezone.now(), count=o["calls"]))
        roles = Counter(p.role for p in net.providers)
        hops = Counter(len(c.path) for c in calls)
        self.stdout.write(json.dumps({"providers": dict(roles), "calls": len(calls), "robocalls": sum(c.robocall for c in calls),
                                      "foreign": sum(c.foreign for c in calls), "path_lengths": dict(sorted(hops.items()))}))
        if o["records_dir"]:
            net.write_records(Path(o["records_dir"]))
            self.stdout.write(f"call records written to {o['records_dir']}")
