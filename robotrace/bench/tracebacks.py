"""Traceback speed and accuracy: the platform and simulated provider agents over real HTTP.

A real server (gunicorn) and the background worker run on a free local port with a
temporary database, started as `robotrace run` starts them, so hop requests go out the way
they do in production (the outbox: committed with the hop, sent by the web process right
after the commit, retried by the worker's sweep). The simulated
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
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from robotrace.bench import harness, profiling

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
    parser.add_argument("--queue-workers", type=int, default=2, help="threads of the background worker (as `robotrace run` starts it)")
    parser.add_argument("--agent-workers", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for tracebacks to settle")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--profile", default="", help="write cProfile statistics of the web workers and the background worker into this folder "
                                                      "(web-<pid>-<thread>.prof, worker-<pid>-<thread>.prof)")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall", help="cpu: per-thread CPU time; wall: also the waits")


def build_registry(providers: int, seed: int, hub_url: str, state_file: str) -> None:
    """Create the simulated network's providers, organisations, keys and webhooks (pointing
    at the agents' hub) in the scratch project, and write the keys the benchmark needs to
    `state_file`. Runs inside the project (`robotrace shell -c`)."""
    from robotrace.simulator.network import Network, materialise

    net = Network(providers, seed=seed, behaviours={"instant": 1.0})
    world = materialise(net, hub_url=hub_url, link_demo=False)
    state = {"consortium_key": world.consortium_key,
             "providers": [{"index": p.index, "provider_id": p.provider_id, "key": p.key, "webhook_secret": p.webhook_secret} for p in net.providers]}
    Path(state_file).write_text(json.dumps(state))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    port, hub_port = harness.free_port(), harness.free_port()
    # The agents' hub is on 127.0.0.1, which providers' webhooks may not name in production.
    env = {"SITE_URL": f"http://127.0.0.1:{port}", "TRACEBACK_WEBHOOK_ALLOW_INSECURE": "true"}
    with harness.scratch_project("traceback", database=options["database"], keep=options.get("keep", False), env=env) as project:
        return _run(project, options, progress, port=port, hub_port=hub_port)


def _run(project: harness.Scratch, options: dict[str, Any], progress: Progress, *, port: int, hub_port: int) -> dict[str, Any]:
    from robotrace.simulator.network import Network

    hub_url = f"http://127.0.0.1:{hub_port}"
    progress(f"migrating a fresh {options['database']} database in {project.var}")
    project.cli("migrate", "-v0")
    state_file = project.var / "world.json"
    progress(f"building {options['providers']} providers")
    project.cli("shell", "-c", f"from robotrace.bench.tracebacks import build_registry; "
                               f"build_registry({options['providers']}, {options['seed']}, {hub_url!r}, {str(state_file)!r})")
    state = json.loads(state_file.read_text())
    net = Network(options["providers"], seed=options["seed"], behaviours={"instant": 1.0})
    for row in state["providers"]:
        p = net.providers[row["index"]]
        p.provider_id, p.key, p.webhook_secret = row["provider_id"], row["key"], row["webhook_secret"]
    silent: list[int] = []
    if options["non_responsive"]:
        silent = [p.index for p in net.rng.sample(net.role("transit"), options["non_responsive"])]
        net.set_behaviour("silent", only=silent)

    profile = profiling.Profile(options["profile"], clock=options.get("profile_clock") or "wall") if options.get("profile") else None
    with (
        project.server(port=port, workers=options["web_workers"], threads=options["web_threads"], **(profile.server_options() if profile else {})) as server,
        project.worker(workers=options["queue_workers"], **(profile.worker_options() if profile else {})) as worker,
    ):
        return _measure(project, options, progress, net=net, state=state, silent=silent, server=server, worker=worker, hub_port=hub_port)


def _measure(project: harness.Scratch, options: dict[str, Any], progress: Progress, *, net: Any, state: dict[str, Any], silent: list[int],
             server: harness.Server, worker: Any, hub_port: int) -> dict[str, Any]:
    import requests

    from robotrace.core.webhooks import headers_for
    from robotrace.simulator.agents import Agents, HttpTransport

    url, hub_url = server.url, f"http://127.0.0.1:{hub_port}"
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

    agents.receive = receive  # type: ignore[method-assign]  # the benchmark wraps the agents' receive

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
    cpu0 = cpu1 = _cpu_snapshot(server.pid, worker.pid, project.db_name)
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
            cpu1 = _cpu_snapshot(server.pid, worker.pid, project.db_name)  # up to the last answer, not the quiet wait
        elif agents.backlog == 0 and time.monotonic() - quiet_since > 5:
            missed = agents.poll()  # a webhook lost? pick the request up by polling
            if not missed:
                break
    settled_s = time.monotonic() - t0
    if silent:
        progress("sweeping the 24-hour clock forward (overdue, then non-responsive)")
        later = (datetime.now(UTC) + timedelta(days=4)).isoformat()
        for _ in range(2):
            project.cli("tracebacks", "sweep", "--now", later)

    rows = _fetch_all(staff, url)
    result = _score(rows, by_tb, net, silent, floor, options, latency_ids=latency_ids, errors=errors, opened_s=opened_s, settled_s=settled_s)
    bulk = max(1, len(by_tb) - len(latency_ids))
    # The platform's CPU: the web workers and the background worker that sends the hop
    # requests (until the 2026-12 restructuring they were sent from the web process).
    result["server_cpu_ms_per_traceback"] = round((cpu1["server"] - cpu0["server"]) * 1000 / bulk, 1)
    result["web_cpu_ms_per_traceback"] = round((cpu1["web"] - cpu0["web"]) * 1000 / bulk, 1)
    result["worker_cpu_ms_per_traceback"] = round((cpu1["worker"] - cpu0["worker"]) * 1000 / bulk, 1)
    result["bench_cpu_ms_per_traceback"] = round((cpu1["bench"] - cpu0["bench"]) * 1000 / bulk, 1)
    if project.db_name:
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


def _cpu_snapshot(server_pid: int, worker_pid: int, db_name: str = "") -> dict[str, float]:
    """CPU seconds so far of the web workers and the background worker, of this process
    (openers + agents + hub), of the PostgreSQL backends of the run's database, and of the
    whole machine (busy, total), so a run can be judged per traceback and the share other
    work took is known."""
    web, worker = harness.tree_cpu_seconds(server_pid), harness.tree_cpu_seconds(worker_pid)
    snap = {"web": web, "worker": worker, "server": web + worker, "bench": time.process_time(),
            "db": sum(harness.cpu_seconds(b) for b in harness.db_backends(db_name)) if db_name else 0.0}
    machine = harness.machine_cpu_seconds()
    if machine is not None:
        snap["machine_busy"], snap["machine_total"] = machine
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
