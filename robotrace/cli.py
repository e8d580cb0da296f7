"""The `robotrace` console command: Django's management commands with our settings.

`robotrace migrate`, `robotrace run`, `robotrace bench ingest`, `robotrace campaigns cluster`...
`robotrace provider-agent` is the exception: the provider agent is a program of its own
(robotrace.agent) that needs no settings or database, so it is handed the arguments directly.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["provider-agent"]:
        from robotrace.agent.cli import main as agent

        raise SystemExit(agent(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "robotrace.settings")
    from robotrace.env import EnvError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["robotrace", *sys.argv[1:]])
    except EnvError as exc:
        sys.stderr.write(f"robotrace: configuration error: {exc}\n")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
