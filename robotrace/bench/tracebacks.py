"""Traceback speed and accuracy: the platform and simulated provider agents over real HTTP.

A real server (gunicorn) runs on a free local port with a temporary database. The simulated
network's agents sit behind one webhook hub; each provider gets signed webhooks for its hop
requests and answers over the hop API with its own key, from its own call records. The
benchmark opens tracebacks on simulated calls over the API, waits until they settle, and
compares every outcome with the truth. In the same run it measures the floor: one no-op hop
round trip (a signed webhook to the hub plus an authenticated API read, no writes).

Prints: completed share, share of origins matching the truth, median and p95 seconds to
origin, mean hops, tracebacks completed per minute, the floor and the ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Progress = Any


def add_arguments(parser: Any) -> None:
    parser.add_argument("--providers", type=int, default=500)
    parser.add_argument("--tracebacks", type=int, default=10000)
    parser.add_argument("--hops", type=int, default=6, help="providers per call path (0 = random 3 to 8)")
    parser.add_argument("--non-responsive", type=int, default=0, help="transit providers that never answer")
    parser.add_argument("--concurrency", type=int, default=3, help="tracebacks opened in parallel")
    parser.add_argument("--in-flight", type=int, default=24,
                        help="tracebacks in progress at once during the throughput phase (a new one opens when one settles); 0 = open all at once")
    parser.add_argument("--latency-samples", type=int, default=30, help="tracebacks first run one at a time to time a chain without queueing")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--agent-workers", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for tracebacks to settle")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--profile", default="", help="write cProfile statistics of the web workers into this folder (web-<pid>-<thread>.prof)")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall", help="cpu: per-thread CPU time; wall: also the waits")


def _free_port() -> int:
    from robotrace.simulator.live import free_port

    return free_port()


def _exe() -> list[str]:
    exe = shutil.which("robotrace", path=os.path.dirname(sys.executable)) or shutil.which("robotrace")
    return [exe] if exe else [sys.executable, "-m", "robotrace.cli"]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    import requests

    from robotrace.core.webhooks import headers_for
    from robotrace.simulator.agents import Agents, HttpTransport
    from robotrace.simulator.network import Network

    tmp = Path(tempfile.mkdtemp(prefix="rt-bench-traceback-"))
    port, hub_port = _free_port(), _free_port()
    url, hub_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hub_port}"
    env = {**os.environ, "ROBOTRACE_VAR_DIR": str(tmp), "SITE_URL": url, "DEBUG": "false", "HUEY_IMMEDIATE": "false",
           "TRACEBACK_WEBHOOK_DISPATCH": "thread", "TRACEBACK_WEBHOOK_ALLOW_INSECURE": "true", "SECRET_KEY": os.urandom(24).hex(), "SECURE_SSL_REDIRECT": "false", "DJANGO_SETTINGS_MODULE": "robotrace.settings", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    env.pop("DATABASE_URL", None)
    pg_name = ""
    if options["database"] == "postgres":
        import psycopg

        pg_name = f"rt_bench_tb_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    server = None
    try:
        progress(f"migrating a fresh {options['database']} database in {tmp}")
        subprocess.run([*_exe(), "migrate", "-v0"], env=env, check=True)
        state_file = tmp / "world.json"
        progress(f"building {options['providers']} providers")
        subprocess.run([*_exe(), "simulate", "--build-only", "--providers", str(options["providers"]), "--seed", str(options["seed"]),
                        "--hub-url", hub_url, "--state", str(state_file)], env=env, check=True, stdout=subprocess.DEVNULL)
        state = json.loads(state_file.read_text())
        net = Network(options["providers"], seed=options["seed"], behaviours={"instant": 1.0})
        for row in state["providers"]:
            p = net.providers[row["index"]]
            p.provider_id, p.key, p.webhook_secret = row["provider_id"], row["key"], row["webhook_secret"]
        silent: list[int] = []
        if options["non_responsive"]:
            silent = [p.index for p in net.rng.sample(net.role("transit"), options["non_responsive"])]
            net.set_behaviour("silent", only=silent)

        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        app = "robotrace.wsgi:application"
        if options.get("profile"):
            Path(options["profile"]).mkdir(parents=True, exist_ok=True)
            env["ROBOTRACE_BENCH_PROFILE_DIR"] = str(Path(options["profile"]).resolve())
            env["ROBOTRACE_BENCH_PROFILE_CLOCK"] = options.get("profile_clock") or "wall"
            app = "robotrace.bench.profiling:application"
        server = subprocess.Popen([gunicorn, app, "-b", f"127.0.0.1:{port}", "--workers", str(options["web_workers"]),
                                   "--threads", str(options["web_threads"]), "--timeout", "300", "--access-logfile", "/dev/null", "--error-logfile", str(tmp / "web.log")], env=env)
        for _ in range(100):
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        progress(f"server up at {url}; agents' webhook hub at {hub_url}")
        agents = Agents(net, HttpTransport(url), workers=options["agent_workers"])
        agents.serve(hub_port)
        # Closed loop: a slot frees when a chain settles (a final answer, or a request that
        # reached a provider that never answers), so the time to origin is measured at a
        # sustained rate rather than as the wait behind a flood of queued tracebacks.
        lock = threading.Lock()
        window = threading.Semaphore(options["in_flight"]) if options["in_flight"] > 0 else None
        final = {"originated", "foreign_upstream", "no_record", "refused"}
        # Only chains opened in the throughput phase took a slot: the latency phase's final
        # answers must not release one, or the window silently grows by --latency-samples.
        slots = {"counting": False, "finals": 0}

        def on_answer(provider: Any, hop: dict[str, Any], body: dict[str, Any], status: int) -> None:
            if status == 200 and body.get("response") in final:
                with lock:
                    slots["finals"] += 1
                    counting = slots["counting"]
                if window is not None and counting:
                    window.release()

        agents.on_answer = on_answer
        plain_receive = agents.receive

        def receive(provider: Any, hop: dict[str, Any]) -> None:
            if window is not None and slots["counting"] and provider.behaviour == "silent" and hop.get("id") not in agents.seen:
                window.release()
            plain_receive(provider, hop)

        agents.receive = receive  # type: ignore[method-assign]

        # Calls happened a few minutes ago, routed through the network; every provider wrote
        # its records as the call went by.
        n = options["tracebacks"]
        start = datetime.now(UTC) - timedelta(minutes=30)
        calls = [net.place_call(at=start + timedelta(milliseconds=i * 97), hops=options["hops"] or None, foreign=(i % 10 == 9)) for i in range(n)]

        floor = _floor(url, hub_url, net, agents, headers_for, progress)

        staff = requests.Session()
        staff.headers["Authorization"] = f"Bearer {state['consortium_key']}"
        by_tb: dict[int, Any] = {}
        errors = 0
        sessions = threading.local()

        def open_one(call: Any) -> None:
            nonlocal errors
            if window is not None:
                window.acquire()
            s = getattr(sessions, "s", None)
            if s is None:
                s = sessions.s = requests.Session()
                s.headers["Authorization"] = f"Bearer {state['consortium_key']}"
            r = s.post(f"{url}/api/v1/tracebacks", json={"call_started_at": call.at.isoformat(), "calling_number": call.calling,
                                                          "called_number": call.called}, timeout=120)
            with lock:
                if r.status_code == 200:
                    by_tb[r.json()["items"][0]["id"]] = call
                else:
                    errors += 1
                    if window is not None:
                        window.release()

        # Latency: a few tracebacks alone in the system, each followed until it settles.
        unloaded: list[float] = []
        latency_ids: set[int] = set()
        silent_set = set(silent)
        for call in calls[: options["latency_samples"]]:
            if call.foreign or silent_set.intersection(call.path):
                continue  # a silent provider would hold the chain for the 24-hour clock
            t = time.perf_counter()
            r = staff.post(f"{url}/api/v1/tracebacks", json={"call_started_at": call.at.isoformat(), "calling_number": call.calling,
                                                              "called_number": call.called}, timeout=120)
            tb_id = r.json()["items"][0]["id"]
            by_tb[tb_id] = call
            latency_ids.add(tb_id)
            while time.perf_counter() - t < 120:
                if staff.get(f"{url}/api/v1/tracebacks/{tb_id}", timeout=30).json()["status"] == "completed":
                    unloaded.append(time.perf_counter() - t)
                    break
                time.sleep(0.02)
        if unloaded:
            progress(f"one at a time: median {statistics.median(unloaded):.2f} s to origin over {len(unloaded)} chains")
        # The last latency chain's final answer may still be on its way back to its agent.
        wait_until = time.monotonic() + 10
        while slots["finals"] < len(unloaded) and time.monotonic() < wait_until:
            time.sleep(0.01)
        with lock:
            slots["counting"] = True
        calls = calls[options["latency_samples"]:]
        progress(f"opening {len(calls)} tracebacks ({options['concurrency']} openers, {options['in_flight'] or 'unlimited'} in flight)")
        t0 = time.monotonic()
        cpu0 = cpu1 = _cpu_snapshot(server.pid, pg_name)
        with ThreadPoolExecutor(options["concurrency"]) as pool:
            list(pool.map(open_one, calls))
        opened_s = time.monotonic() - t0
        progress(f"opened {len(by_tb)} in {opened_s:.1f} s; waiting for the chains to settle")
        deadline = time.monotonic() + options["timeout"]
        last = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(1.0)
            done = agents.answered
            if done != last:
                last, quiet_since = done, time.monotonic()
                cpu1 = _cpu_snapshot(server.pid, pg_name)  # up to the last answer, not the quiet wait
            elif agents.backlog == 0 and time.monotonic() - quiet_since > 5:
                missed = agents.poll()  # a webhook lost? pick the request up by polling
                if not missed:
                    break
        settled_s = time.monotonic() - t0
        if silent:
            progress("sweeping the 24-hour clock forward (overdue, then non-responsive)")
            later = (datetime.now(UTC) + timedelta(days=4)).isoformat()
            for _ in range(2):
                subprocess.run([*_exe(), "tracebacks", "sweep", "--now", later], env=env, check=True, stdout=subprocess.DEVNULL)

        rows = _fetch_all(staff, url)
        result = _score(rows, by_tb, net, silent, floor, options, latency_ids=latency_ids, errors=errors, opened_s=opened_s, settled_s=settled_s)
        bulk = max(1, len(by_tb) - len(latency_ids))
        result["server_cpu_ms_per_traceback"] = round((cpu1["server"] - cpu0["server"]) * 1000 / bulk, 1)
        result["bench_cpu_ms_per_traceback"] = round((cpu1["bench"] - cpu0["bench"]) * 1000 / bulk, 1)
        if pg_name:
            # Backends that came and went between the two snapshots are missed: a lower bound.
            result["db_cpu_ms_per_traceback"] = round(max(0.0, cpu1["db"] - cpu0["db"]) * 1000 / bulk, 1)
        if "machine_total" in cpu0:
            span = cpu1["machine_total"] - cpu0["machine_total"]
            ours = (cpu1["server"] - cpu0["server"]) + (cpu1["bench"] - cpu0["bench"]) + max(0.0, cpu1["db"] - cpu0["db"])
            result["machine_busy_share"] = round((cpu1["machine_busy"] - cpu0["machine_busy"]) / span, 3) if span else None
            result["others_cpu_share"] = round(max(0.0, cpu1["machine_busy"] - cpu0["machine_busy"] - ours) / span, 3) if span else None
        result["median_s_to_origin_one_at_a_time"] = round(statistics.median(unloaded), 3) if unloaded else None
        result["p95_s_to_origin_one_at_a_time"] = round(_pct(unloaded, 0.95), 3) if unloaded else None
        if unloaded and result["mean_hops"]:
            result["ratio_one_at_a_time"] = round(statistics.median(unloaded) / (floor * result["mean_hops"]), 1)
        return result
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_name:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if not options.get("keep"):
            shutil.rmtree(tmp, ignore_errors=True)


def _floor(url: str, hub_url: str, net: Any, agents: Any, headers_for: Any, progress: Progress, rounds: int = 200) -> float:
    """Median seconds of a no-op hop round trip: a signed webhook to the hub (that ignores it)
    plus an authenticated hop-list read from the API. Nothing is written."""
    import requests

    p = next(q for q in net.providers if q.key and q.webhook_secret)
    s = requests.Session()
    times = []
    body = json.dumps({"type": "ping", "data": {}}).encode()
    for _ in range(rounds):
        t = time.perf_counter()
        s.post(f"{hub_url}/hook/{p.index}", data=body, headers=headers_for(p.webhook_secret, body), timeout=10)
        s.get(f"{url}/api/v1/hops?limit=1", headers={"Authorization": f"Bearer {p.key}"}, timeout=10)
        times.append(time.perf_counter() - t)
    floor = statistics.median(times)
    progress(f"floor (no-op hop round trip): {floor * 1000:.1f} ms")
    return floor


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _db_backends(db_name: str) -> list[int]:
    """PostgreSQL backends serving the benchmark's database (their process title names it)."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f" {db_name} ".encode() in (proc / "cmdline").read_bytes().replace(b"\0", b" "):
                out.append(int(proc.name))
        except OSError:
            continue
    return out


def _cpu_snapshot(server_pid: int, db_name: str = "") -> dict[str, float]:
    """CPU seconds so far of the web workers, of this process (openers + agents + hub), of
    the PostgreSQL backends of the run's database, and of the whole machine (busy, total),
    so a run can be judged per traceback and the share other work took is known."""
    snap = {"server": sum(_cpu_seconds(c) for c in _children(server_pid)) + _cpu_seconds(server_pid), "bench": time.process_time(),
            "db": sum(_cpu_seconds(b) for b in _db_backends(db_name)) if db_name else 0.0}
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]
        snap["machine_busy"] = (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")
        snap["machine_total"] = sum(ticks) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return snap


def _fetch_all(session: Any, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = session.get(f"{url}/api/v1/tracebacks", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}, timeout=120)
        body = r.json()
        rows += body["items"]
        cursor = body.get("next") or ""
        if not cursor:
            return rows


def _score(rows: list[dict[str, Any]], by_tb: dict[int, Any], net: Any, silent: list[int], floor: float, options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    silent_ids = {net.providers[i].provider_id for i in silent}
    completed = correct = nr_right = nr_total = 0
    to_origin: list[float] = []
    hops: list[int] = []
    finish: list[datetime] = []
    first_open: datetime | None = None
    for row in rows:
        call = by_tb.get(row["id"])
        if call is None:
            continue
        created = datetime.fromisoformat(row["created_at"])
        bulk = row["id"] not in extra["latency_ids"]
        if bulk:
            first_open = created if first_open is None or created < first_open else first_open
        if row["status"] != "completed":
            continue
        completed += 1
        done = datetime.fromisoformat(row["completed_at"])
        path_ids = [net.providers[i].provider_id for i in call.path]
        stopper = next((pid for pid in reversed(path_ids) if pid in silent_ids), None)
        if stopper is not None:
            nr_total += 1
            nr_right += row["outcome"] == "non_responsive" and row["non_responsive_provider_id"] == stopper
            continue
        if bulk:
            finish.append(done)
            to_origin.append((done - created).total_seconds())
        hops.append(row["hop_count"])
        truth = net.providers[call.true_origin].provider_id
        found = row["point_of_entry_provider_id"] if call.foreign else row["originating_provider_id"]
        expected = "foreign_origin" if call.foreign else "origin_and_customer"
        correct += row["outcome"] == expected and found == truth
    n = len(by_tb)
    traced = max(1, completed - nr_total)
    span_min = ((max(finish) - first_open).total_seconds() / 60) if finish and first_open else 0
    median = statistics.median(to_origin) if to_origin else 0.0
    mean_hops = statistics.mean(hops) if hops else 0.0
    return {
        "benchmark": "traceback",
        "database": options["database"],
        "providers": options["providers"],
        "tracebacks": n,
        "hops_per_call": options["hops"] or "3-8",
        "completed_share": round(completed / n, 4) if n else 0,
        "origin_correct_share": round(correct / traced, 4),
        "median_s_to_origin_under_load": round(median, 3),
        "p95_s_to_origin_under_load": round(_pct(to_origin, 0.95), 3),
        "mean_hops": round(mean_hops, 2),
        "completed_per_min": round(len(finish) / span_min, 1) if span_min else 0,
        "non_responsive_named_share": round(nr_right / nr_total, 4) if nr_total else None,
        "non_responsive_tracebacks": nr_total,
        "floor_ms": round(floor * 1000, 2),
        "ratio_under_load": round(median / (floor * mean_hops), 1) if floor and mean_hops else None,
        "in_flight": options.get("in_flight") or "unlimited",
        "open_errors": extra["errors"],
        "open_seconds": round(extra["opened_s"], 1),
        "settle_seconds": round(extra["settled_s"], 1),
    }
