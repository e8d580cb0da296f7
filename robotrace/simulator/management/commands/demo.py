from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from robotrace.simulator.demo import world as demo


def logins_text() -> str:
    creds = demo.load_credentials()
    lines = [
        "Demo logins (password for all: %s)" % creds.get("password", demo.DEMO_PASSWORD),
        "  consortium admin  alice@itc.example        (TOTP required)",
        "  consortium analyst carol@itc.example       (TOTP required)",
        "  provider          pat@keystone.example, quinn@northgate.example",
        "  reporter          rita@keystone-analytics.example, sam@callshield.example",
        "  agency            dana@ncdoj.example (NC), omar@ohioago.example (OH), fran@ftc.example  (TOTP required)",
        "  TOTP secret for every demo account: %s" % creds.get("totp_secret", demo.DEMO_TOTP_SECRET),
        "  current code: run `robotrace demo totp` (or add the secret to an authenticator app)",
    ]
    keys = creds.get("keys") or {}
    if keys:
        lines.append("Demo API keys (Authorization: Bearer …):")
        lines += [f"  {slug:<22} {secret}" for slug, secret in sorted(keys.items())]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Demo world: `robotrace demo seed`, `robotrace demo logins`, `robotrace demo totp`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        s = sub.add_parser("seed", help="create the demo organisations, people and keys (once)")
        s.add_argument("--force", action="store_true", help="seed even if organisations exist")
        sub.add_parser("logins", help="print the demo logins and API keys")
        sub.add_parser("totp", help="print the current TOTP code of the demo accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "seed":
            world = demo.seed(force=options["force"])
            self.stdout.write("seeded the demo world" if world else "demo world already present")
        elif verb == "logins":
            self.stdout.write(logins_text())
        elif verb == "totp":
            self.stdout.write(demo.current_totp())
