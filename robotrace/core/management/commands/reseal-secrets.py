from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from robotrace.core import crypto


class Command(BaseCommand):
    help = "Seal every stored webhook secret again with the first ROBOTRACE_FIELD_KEYS key (after rotating keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-key", action="store_true", help="only print a fresh key for ROBOTRACE_FIELD_KEYS")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(crypto.new_key())
            return
        for column, n in crypto.reseal_all().items():
            self.stdout.write(f"{column}: {n} re-sealed")
