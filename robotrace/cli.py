"""The `robotrace` console command: Django's management commands with our settings.

`robotrace migrate`, `robotrace run`, `robotrace bench ingest`, `robotrace campaigns cluster`...
"""

from __future__ import annotations

import os
import sys


def main() -> None:
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
