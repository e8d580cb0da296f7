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
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from robotrace.bench.harness import PG_ADMIN_URL, MemorySampler, scratch_project
from robotrace.ingest.synthetic import ndjson, ndjson_lines


def add_arguments(parser: Any) -> None:
    parser.add_argument("--reports", type=int, default=200_000, help="reports to post (default 200,000)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--batch-lines", type=int, default=5000, help="lines per request")
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--big-upload-mb", type=int, default=0, help="also stream one upload this large (MB, uncompressed)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server to create the scratch database on")


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
    with scratch_project("ingest", database=options["database"], pg_url=options.get("pg_url") or PG_ADMIN_URL,
                         env={"LOG_LEVEL": "ERROR"}) as project:  # fmt: skip
        progress(f"migrating a scratch {options['database']} database in {project.var}")
        project.cli("migrate", "-v0")
        key = project.cli("shell", "-c", (
            "from robotrace.accounts import services as s\n"
            "org = s.create_organisation(actor=None, name='Bench Reporter', kind='reporter', slug='bench-reporter', reporter_type='honeypot')\n"
            "print(s.issue_api_key(actor=None, organisation=org, name='bench', scopes=['ingest']).secret)"
        )).strip().splitlines()[-1]  # fmt: skip

        progress(f"starting gunicorn ({options['workers']} workers)")
        with project.server(workers=options["workers"], timeout=3600) as server:
            port = server.port
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
            out = project.cli("shell", "-c", f"import json; from robotrace.bench.ingest import floor; print(json.dumps(floor({n}, {batch})))")
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
