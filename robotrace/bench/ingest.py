"""Call-report intake over HTTP against the real server, and the database's own bulk-load floor.

`robotrace bench ingest --reports N [--database sqlite|postgres]`:

1. a scratch var dir (and, for PostgreSQL, a scratch database) is migrated and given one
   reporter organisation with an `ingest` API key;
2. gunicorn serves the project on a free local port;
3. N synthetic reports, gzip NDJSON in batches of 5,000 lines, are POSTed by a few
   concurrent clients; reports_per_s is N over the wall time of all requests;
4. in the same run the same rows, already decoded and normalised, are bulk-loaded straight
   into an identical table (COPY on PostgreSQL, executemany in one transaction on SQLite):
   raw_rows_per_s, the machine's floor;
5. optionally (`--big-upload-mb 1024`) one huge uncompressed upload is streamed with chunked
   transfer encoding while the server's memory is sampled from /proc.

peak_rss_mb is the largest resident set of any server process (gunicorn master or worker)
seen while ingesting; it shows whether the request is really streamed.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import robotrace
from robotrace.ingest.synthetic import ndjson, ndjson_lines

ROOT = Path(robotrace.__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser: Any) -> None:
    parser.add_argument("--reports", type=int, default=200_000, help="reports to post (default 200,000)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--batch-lines", type=int, default=5000, help="lines per request")
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--big-upload-mb", type=int, default=0, help="also stream one upload this large (MB, uncompressed)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server to create the scratch database on")


# --- processes and memory --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class MemorySampler:
    """Peak RSS of a process tree (the gunicorn master and its workers), sampled every 50 ms."""

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


def run_cli(env: dict[str, str], *args: str, timeout: int = 1800) -> str:
    proc = subprocess.run([sys.executable, "-m", "robotrace.cli", *args], cwd=ROOT, env=env, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"robotrace {' '.join(args[:2])} failed:\n{proc.stderr.decode()[-4000:]}")
    return proc.stdout.decode()


# --- HTTP clients ----------------------------------------------------------------------------


def post(port: int, key: str, body: Any, *, gzip_body: bool, chunked: bool = False, timeout: float = 3600) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    if gzip_body:
        headers["Content-Encoding"] = "gzip"
    try:
        conn.request("POST", "/api/v1/reports", body=body, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 202:
        raise RuntimeError(f"POST answered {response.status}: {data[:500]!r}")
    return json.loads(data)


def post_all(port: int, key: str, bodies: list[bytes], clients: int) -> tuple[float, int]:
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    accepted = 0
    errors: list[BaseException] = []

    def worker() -> None:
        nonlocal accepted
        while True:
            with lock:
                if not queue or errors:
                    return
                _, body = queue.pop(0)
            try:
                answer = post(port, key, body, gzip_body=True)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            with lock:
                accepted += answer["accepted"]

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, accepted


def big_body(megabytes: int, prefix: str) -> Iterator[bytes]:
    """About `megabytes` MB of NDJSON, generated on the fly in 1 MB pieces."""
    target = megabytes * 1024 * 1024
    sent = 0
    start = 0
    while sent < target:
        piece = b"".join(ndjson_lines(3000, start=start, prefix=prefix))
        start += 3000
        sent += len(piece)
        yield piece


# --- the floor (runs inside the scratch project, via `robotrace shell`) -----------------------


def floor(n: int, batch: int) -> dict[str, Any]:
    """Bulk-load n normalised rows into a table identical to ingest_callreport; rows/s."""
    from django.db import connection, transaction
    from django.utils import timezone

    from robotrace.accounts.models import Organisation
    from robotrace.ingest import parsers
    from robotrace.ingest.schema import Normaliser, ReportIn
    from robotrace.ingest.writer import writer_for

    reporter = Organisation.objects.get(slug="bench-reporter")
    normaliser = Normaliser(default_tz=None, now=timezone.now(), for_sqlite=connection.vendor == "sqlite")
    rows = [normaliser.row(item) for _, item in parsers.ndjson([ndjson(n, prefix="floor")]) if isinstance(item, ReportIn)]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("CREATE TABLE bench_floor (LIKE ingest_callreport INCLUDING ALL) PARTITION BY RANGE (call_started_at)")
            cur.execute(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'ingest_callreport'::regclass"
            )
            for name, bound in cur.fetchall():
                cur.execute(f'CREATE TABLE "{name.replace("ingest_callreport", "bench_floor")}" PARTITION OF bench_floor {bound}')
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'ingest_callreport' AND sql IS NOT NULL")
            for (sql,) in cur.fetchall():
                sql = sql.replace('"ingest_callreport"', '"bench_floor"').replace(" ingest_callreport ", " bench_floor ")
                for idx in ("callreport_", "ingest_callreport_"):
                    sql = sql.replace(f'INDEX "{idx}', f'INDEX "floor_{idx}').replace(f"INDEX {idx}", f"INDEX floor_{idx}")
                cur.execute(sql)
    writer = writer_for(table="bench_floor", dedupe=False)
    start = time.perf_counter()
    with transaction.atomic():
        for i in range(0, len(rows), batch):
            writer.write(reporter_id=reporter.id, upload_id=None, rows=rows[i : i + batch])
    elapsed = time.perf_counter() - start
    return {"rows": len(rows), "seconds": elapsed, "rows_per_s": len(rows) / elapsed}


# --- the run ---------------------------------------------------------------------------------


def run(options: dict[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    n = options["reports"]
    batch = options["batch_lines"]
    var = Path(tempfile.mkdtemp(prefix="rt-bench-ingest-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTEST"))}
    env.update(ROBOTRACE_VAR_DIR=str(var), DEBUG="0", SECRET_KEY="bench-only-" + "x" * 40, ALLOWED_HOSTS="127.0.0.1",
               SECURE_SSL_REDIRECT="0", LOG_LEVEL="ERROR", ROBOTRACE_TESTING="0")  # fmt: skip
    db_name = ""
    server: subprocess.Popen[bytes] | None = None
    admin_url = options.get("pg_url") or PG_ADMIN_URL
    try:
        if options["database"] == "postgres":
            import psycopg

            db_name = f"rt_bench_ingest_{os.getpid()}"
            with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as pg:
                pg.execute(f'CREATE DATABASE "{db_name}"')
            env["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + db_name
        progress(f"migrating a scratch {options['database']} database in {var}")
        run_cli(env, "migrate", "-v0")
        key = run_cli(env, "shell", "-c", (
            "from robotrace.accounts import services as s\n"
            "org = s.create_organisation(actor=None, name='Bench Reporter', kind='reporter', slug='bench-reporter', reporter_type='honeypot')\n"
            "print(s.issue_api_key(actor=None, organisation=org, name='bench', scopes=['ingest']).secret)"
        )).strip().splitlines()[-1]  # fmt: skip

        port = free_port()
        progress(f"starting gunicorn ({options['workers']} workers) on 127.0.0.1:{port}")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "robotrace.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(options["workers"]), "--timeout", "3600", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        progress(f"preparing {n:,} synthetic reports as gzip NDJSON in requests of {batch:,} lines")
        bodies = [gzip.compress(ndjson(min(batch, n - i), start=i, prefix="http"), 1) for i in range(0, n, batch)]
        post(port, key, gzip.compress(ndjson(10, start=0, prefix="warmup")), gzip_body=True)  # import everything once

        progress(f"posting with {options['clients']} concurrent clients")
        with MemorySampler(server.pid) as sampler:
            elapsed, accepted = post_all(port, key, bodies, options["clients"])
        if accepted != n:
            raise RuntimeError(f"server accepted {accepted:,} of {n:,} reports")
        result: dict[str, Any] = {"reports": n, "reports_per_s": round(n / elapsed), "database": options["database"],
                                  "http_seconds": round(elapsed, 2), "peak_rss_mb": round(sampler.peak, 1)}  # fmt: skip
        progress(f"HTTP: {n:,} reports in {elapsed:.2f} s = {n / elapsed:,.0f}/s; server peak RSS {sampler.peak:.0f} MB")

        progress("bulk-loading the same normalised rows straight into an identical table (the floor)")
        out = run_cli(env, "shell", "-c", f"import json; from robotrace.bench.ingest import floor; print(json.dumps(floor({n}, {batch})))")
        fl = json.loads(out.strip().splitlines()[-1])
        result["raw_rows_per_s"] = round(fl["rows_per_s"])
        result["ratio"] = round(result["reports_per_s"] / result["raw_rows_per_s"], 3)
        progress(f"floor: {fl['rows']:,} rows in {fl['seconds']:.2f} s = {fl['rows_per_s']:,.0f}/s")

        if options["big_upload_mb"]:
            mb = options["big_upload_mb"]
            progress(f"streaming one {mb:,} MB upload (chunked, uncompressed) and sampling server memory")
            with MemorySampler(server.pid) as big:
                start = time.perf_counter()
                answer = post(port, key, big_body(mb, "big"), gzip_body=False, chunked=True)
                seconds = time.perf_counter() - start
            result.update(big_upload_mb=mb, big_upload_reports=answer["accepted"], big_upload_seconds=round(seconds, 1),
                          big_upload_reports_per_s=round(answer["accepted"] / seconds), big_upload_peak_rss_mb=round(big.peak, 1))  # fmt: skip
            progress(f"big upload: {answer['accepted']:,} reports in {seconds:.1f} s; server peak RSS {big.peak:.0f} MB")
        return result
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if db_name:
            import psycopg

            with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(var, ignore_errors=True)
