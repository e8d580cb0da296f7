"""What the benchmarks share: processes, ports, /proc readings and throw-away databases.

- `scratch_project(...)`: a temporary var folder and, on PostgreSQL, a temporary database,
  with the environment a `robotrace` child process needs to run in it; the benchmark runs
  the CLI there (`Scratch.cli`), starts the web server (`Scratch.server`) and the background
  worker (`Scratch.worker`) exactly as `robotrace run` starts them, and everything is
  stopped, dropped and removed afterwards.
- `temporary_database(...)`: this process's own connection switched to a fresh database
  (Django's test-database machinery) for benchmarks that run in-process.
- `rolled_back()`: a transaction that is always rolled back, for benchmarks that seed rows
  into whatever database is configured and must leave nothing behind.
- `/proc` readings (Linux): CPU seconds and resident memory of a process and its children,
  the PostgreSQL backends serving a database, and the machine's busy time.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import robotrace

ROOT = Path(robotrace.__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
Progress = Callable[[str], None]


def progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def peak_rss_mb() -> float:
    """The largest resident set this process has had, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- /proc -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The direct children of a process (a gunicorn master's workers)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its direct children."""
    return cpu_seconds(pid) + sum(cpu_seconds(c) for c in children(pid))


def db_backends(db_name: str) -> list[int]:
    """PostgreSQL backends serving a database (their process title names it)."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f" {db_name} ".encode() in (proc / "cmdline").read_bytes().replace(b"\0", b" "):
                out.append(int(proc.name))
        except OSError:
            continue
    return out


def machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    if len(ticks) < 5:
        return None
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


class MemorySampler:
    """Peak RSS of a process and its children (a gunicorn master and its workers), sampled
    every 50 ms while the `with` block runs."""

    def __init__(self, root_pid: int):
        self.root = root_pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in [self.root, *children(self.root)]:
                self.peak = max(self.peak, rss_mb(pid))
            time.sleep(0.05)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


# --- a scratch project in child processes ----------------------------------------------------


def _pg(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Scratch:
    """A throw-away project: `var` holds its SQLite files, uploads and logs; `env` runs a
    `robotrace` child process in it; `db_name` is its PostgreSQL database ("" on SQLite)."""

    var: Path
    env: dict[str, str]
    database: str
    db_name: str

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "robotrace.cli", *args]

    def cli(self, *args: str, timeout: float = 1800) -> str:
        """Run `robotrace ARGS...` in the project; its stdout, or an error with its stderr."""
        proc = subprocess.run(self.command(*args), cwd=ROOT, env=self.env, capture_output=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"robotrace {' '.join(args[:2])} failed:\n{proc.stderr.decode()[-4000:]}")
        return proc.stdout.decode()

    @contextmanager
    def server(self, *, workers: int, threads: int = 1, timeout: int = 300, port: int = 0,
               app: str = "robotrace.wsgi:application", env: dict[str, str] | None = None) -> Iterator[Server]:
        """gunicorn serving the project on `port` (a free local one by default), as
        `robotrace run` starts it (sync workers when `threads` is 1, threaded ones above);
        ready when /healthz answers. `app` and `env` let a benchmark wrap the application
        from outside (profiling.py)."""
        port = port or free_port()
        args = [sys.executable, "-m", "gunicorn", app, "-b", f"127.0.0.1:{port}", "--workers", str(workers),
                "--timeout", str(timeout), "--access-logfile", "/dev/null", "--error-logfile", str(self.var / "web.log"),
                "--log-level", "warning"]  # fmt: skip
        if threads > 1:
            args += ["--threads", str(threads)]
        proc = subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})})
        try:
            _wait_ready(proc, f"http://127.0.0.1:{port}/healthz", self.var / "web.log")
            yield Server(proc, port)
        finally:
            _stop(proc)

    @contextmanager
    def worker(self, *, workers: int = 2, command: list[str] | None = None, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
        """The background worker (queued and periodic tasks), started as `robotrace run`
        starts it; `command` (what stands for `robotrace run_huey`) and `env` let a benchmark
        wrap it from outside (profiling.py)."""
        options = ["--workers", str(workers), "--worker-type", "thread", "--quiet"]
        args = [*command, *options] if command else self.command("run_huey", *options)
        with (self.var / "worker.log").open("ab") as log:
            proc = subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=log)
        try:
            yield proc
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own local server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    raise RuntimeError(f"the server did not come up at {url}:\n{tail}")


@contextmanager
def scratch_project(name: str, *, database: str, pg_url: str = PG_ADMIN_URL, keep: bool = False,
                    env: dict[str, str] | None = None) -> Iterator[Scratch]:
    """A fresh var folder and, for `database="postgres"`, a fresh database on `pg_url`'s
    server, with production settings (DEBUG off); the database is dropped afterwards and the
    folder removed unless `keep`. The environment leaves out the caller's DATABASE_* and PYTEST* variables, so a
    benchmark started from a test run or a configured shell still gets its own database."""
    var = Path(tempfile.mkdtemp(prefix=f"rt-bench-{name}-"))
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTEST"))}
    child_env.update(ROBOTRACE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="robotrace.settings", DEBUG="0",
                     SECRET_KEY=secrets.token_hex(24), AUDIT_CHAIN_KEY=secrets.token_urlsafe(32),
                     ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="0",
                     ROBOTRACE_TESTING="0")  # fmt: skip
    child_env.update(env or {})
    db_name = ""
    try:
        if database == "postgres":
            db_name = f"rt_bench_{name.replace('-', '_')}_{os.getpid()}"
            _pg(pg_url, f'CREATE DATABASE "{db_name}"')
            child_env["DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + db_name
        yield Scratch(var=var, env=child_env, database=database, db_name=db_name)
    finally:
        if db_name:
            _pg(pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        if not keep:
            shutil.rmtree(var, ignore_errors=True)


# --- in this process -------------------------------------------------------------------------


@contextmanager
def temporary_database(name: str, *, reuse: str = "", keep: bool = False, progress: Progress = progress) -> Iterator[str]:
    """Switch this process's default connection to a fresh, migrated database (a SQLite file
    in a temporary folder, or a PostgreSQL database beside the configured one) and back
    afterwards. `reuse` names a database kept by an earlier `keep=True` run; it is kept
    again. Yields the database's name."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    old_name = db["NAME"]
    test = db.setdefault("TEST", {})
    tmpdir = None
    if reuse:
        test["NAME"] = reuse
    elif connection.vendor == "sqlite":
        tmpdir = tempfile.mkdtemp(prefix=f"rt-bench-{name}-")
        test["NAME"] = os.path.join(tmpdir, "bench.sqlite3")
    else:
        test["NAME"] = f"rt_bench_{name.replace('-', '_')}_{os.getpid()}"
    progress(f"{'reusing' if reuse else 'creating'} temporary {connection.vendor} database {test['NAME']}")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=bool(reuse))
    try:
        yield test["NAME"]
    finally:
        kept = keep or bool(reuse)
        if kept:
            progress(f"kept {test['NAME']}; rerun with --reuse-db {test['NAME']}")
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=kept)
        if tmpdir and not kept:
            shutil.rmtree(tmpdir, ignore_errors=True)


@contextmanager
def rolled_back() -> Iterator[None]:
    """One transaction on the configured database that is rolled back at the end, whatever
    happens: the benchmark's rows never outlive it."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)
