from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from robotrace.simulator.management.commands.demo import logins_text


class Command(BaseCommand):
    help = "Run the whole platform: web server, background worker and scheduler, and the live simulated ecosystem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--no-simulator", action="store_true", help="do not start the simulated ecosystem")
        parser.add_argument("--no-seed", action="store_true", help="do not create the demo world")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["no_seed"]:
            # The demo world's people share a published password and TOTP secret: seeded on a
            # production instance, they would be open doors.
            raise CommandError(
                "refusing to seed the demo world with DEBUG=0: its accounts use the published demo password and a "
                "shared TOTP secret. The demo is for development: run with DEBUG=1, or pass --no-seed and create "
                "real accounts (robotrace accounts bootstrap --organisation NAME --email E, then invite people from the pages)."
            )
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_seed"]:
            call_command("demo", "seed")
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        exe = shutil.which("robotrace") or f"{sys.executable} -m robotrace.cli"
        py_bin = os.path.dirname(sys.executable)
        gunicorn = os.path.join(py_bin, "gunicorn")
        url = f"http://{options['host']}:{options['port']}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "robotrace.settings", "SITE_URL": os.environ.get("SITE_URL", url)}
        # The demo reports Content-Security-Policy violations without enforcing them (#20: a
        # report-only phase); CSP_REPORT_ONLY=0 enforces the policy, as production does by default.
        env.setdefault("CSP_REPORT_ONLY", "1")
        if not options["no_simulator"]:
            # The simulated providers' webhook hub listens on 127.0.0.1.
            env.setdefault("TRACEBACK_WEBHOOK_ALLOW_INSECURE", "true")
        procs: dict[str, subprocess.Popen[bytes]] = {}
        procs["web"] = subprocess.Popen(
            [gunicorn, "robotrace.wsgi:application", "-b", f"{options['host']}:{options['port']}",
             "--workers", str(options["web_workers"]), "--threads", "4", "--timeout", "300",
             "--access-logfile", "-" if os.environ.get("ACCESS_LOG") else "/dev/null"],
            env=env,
        )
        # The Huey consumer runs the queued tasks and the periodic ones (the scheduler).
        procs["worker"] = subprocess.Popen([*exe.split(), "run_huey", "--workers", "2", "--worker-type", "thread", "--quiet"], env=env)
        if not options["no_simulator"] and "simulate" in get_commands():
            procs["simulator"] = subprocess.Popen([*exe.split(), "simulate", "--live", "--url", url], env=env)
        time.sleep(1.5)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Robotrace is running at {url}/"))
        self.stdout.write(f"API docs: {url}/api/v1/docs")
        if not options["no_seed"]:
            self.stdout.write(logins_text())
        self.stdout.write("Press Ctrl+C to stop.\n")

        def stop(*_: Any) -> None:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            for name, proc in procs.items():
                code = proc.poll()
                if code is not None:
                    self.stderr.write(f"{name} exited with status {code}; stopping")
                    stop()
            time.sleep(1)
