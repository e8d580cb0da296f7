"""`robotrace accounts ...`: operator tools that work when nobody can sign in.

- `bootstrap --organisation NAME --email E`: the first consortium admin of a fresh install
  (prints a generated password once; the person enrols an authenticator at first sign-in);
- `unlock EMAIL`: release a locked account (e.g. the only consortium admin);
- `end-sessions EMAIL`: sign a person out everywhere;
- `disable-idle [--days N]`: disable accounts unused for N days (the daily task does this too).

Every change goes through accounts.services, so it is audited (actor "system").
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.accounts import conf, services
from robotrace.accounts.models import Organisation, User


class Command(BaseCommand):
    help = "Operator tools for organisations and people (bootstrap, unlock, end-sessions, disable-idle)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        boot = sub.add_parser("bootstrap", help="create the consortium and its first admin")
        boot.add_argument("--organisation", required=True)
        boot.add_argument("--email", required=True)
        unlock = sub.add_parser("unlock", help="release a locked account")
        unlock.add_argument("email")
        end = sub.add_parser("end-sessions", help="end every session of a person")
        end.add_argument("email")
        idle = sub.add_parser("disable-idle", help="disable accounts unused for N days")
        idle.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        try:
            if verb == "bootstrap":
                self._bootstrap(options["organisation"], options["email"])
            elif verb == "disable-idle":
                days = options["days"] or conf.idle_account_days()
                self.stdout.write(json.dumps({"disabled": services.disable_idle_accounts(idle_days=days)}))
            else:
                user = User.objects.filter(email__iexact=options["email"].strip()).first()
                if user is None:
                    raise CommandError(f"no person with e-mail {options['email']!r}")
                if verb == "unlock":
                    if not user.is_locked:
                        self.stdout.write(json.dumps({"email": user.email, "unlocked": False, "reason": "not locked"}))
                        return
                    services.unlock_user(actor=None, user=user)
                    self.stdout.write(json.dumps({"email": user.email, "unlocked": True}))
                else:
                    services.end_sessions(actor=None, user=user)
                    self.stdout.write(json.dumps({"email": user.email, "sessions_ended": True}))
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict")
                               else "; ".join(exc.messages))

    def _bootstrap(self, name: str, email: str) -> None:
        consortium = Organisation.objects.filter(kind=Organisation.Kind.CONSORTIUM).order_by("id").first()
        if consortium is None:
            consortium = services.create_organisation(actor=None, name=name, kind=Organisation.Kind.CONSORTIUM)
        password = "-".join(secrets.token_urlsafe(6) for _ in range(4))  # ~130 bits, 35 characters
        user = services.create_user(actor=None, organisation=consortium, email=email, password=password, role=User.Role.ADMIN)
        self.stdout.write(json.dumps({"organisation": consortium.slug, "email": user.email, "password": password,
                                      "note": "shown once; an authenticator app is enrolled at first sign-in"}))
