"""cProfile statistics of the platform's processes, for `robotrace bench traceback --profile DIR`.

The profilers wrap the processes from outside; no production module is patched or knows of
them. The benchmark starts its own processes with them:

- the web server serves `robotrace.bench.profiling:application` instead of
  `robotrace.wsgi:application`: every request runs under its thread's profiler, and every
  other thread the web process starts (the outbox relay that sends hop requests, its outcome
  flusher) is profiled from its start (`threading.setprofile`) and written when the process
  exits;
- the background worker is `python -m robotrace.bench.profiling ARGS...`, which runs
  `robotrace run_huey ARGS...` with Huey pre- and post-execute hooks that run every task
  under its thread's profiler.

cProfile only sees the thread that enabled it, so each thread has its own profiler and
writes its own file, `DIR/web-<pid>-<thread name>-<id>.prof` or `DIR/worker-...`;
`pstats.Stats(*files)` merges them. Request and task threads write theirs every few seconds,
so a process killed at the end of the run still leaves its profile. The folder and the clock
come in ROBOTRACE_BENCH_PROFILE_DIR and ROBOTRACE_BENCH_PROFILE_CLOCK, set only on those
processes.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_DIR = os.environ.get("ROBOTRACE_BENCH_PROFILE_DIR", "")
# "cpu" counts each thread's own CPU time (what the 2 cores spend); "wall" (the default)
# also counts waits: the SQLite write lock, the GIL, the network, and idle threads.
_TIMER = time.thread_time if os.environ.get("ROBOTRACE_BENCH_PROFILE_CLOCK") == "cpu" else time.perf_counter
_LOCAL = threading.local()
_ALL: list[tuple[str, str, cProfile.Profile]] = []
_ALL_LOCK = threading.Lock()


class Profile:
    """The benchmark's side: what to start the web server and the worker with."""

    def __init__(self, folder: str, *, clock: str = "wall"):
        path = Path(folder).resolve()
        path.mkdir(parents=True, exist_ok=True)
        self.env = {"ROBOTRACE_BENCH_PROFILE_DIR": str(path), "ROBOTRACE_BENCH_PROFILE_CLOCK": clock}

    def server_options(self) -> dict[str, Any]:
        return {"app": "robotrace.bench.profiling:application", "env": self.env}

    def worker_options(self) -> dict[str, Any]:
        return {"command": [sys.executable, "-m", "robotrace.bench.profiling"], "env": self.env}


def _enable(prefix: str) -> None:
    prof = getattr(_LOCAL, "prof", None)
    if prof is None:
        prof = _LOCAL.prof = cProfile.Profile(_TIMER)
        _LOCAL.dumped = time.monotonic()
        with _ALL_LOCK:
            _ALL.append((prefix, _thread_name(), prof))
    prof.enable()


def _thread_name() -> str:
    thread = threading.current_thread()
    return f"{thread.name}-{thread.ident}".replace("/", "_")


def _dump(prof: cProfile.Profile, prefix: str, thread: str) -> None:
    name = f"{prefix}-{os.getpid()}-{thread}.prof"
    tmp = os.path.join(_DIR, "." + name)
    pstats.Stats(prof).dump_stats(tmp)
    os.replace(tmp, os.path.join(_DIR, name))


def _disable(prefix: str) -> None:
    """Stop this thread's profiler; every 5 s write its statistics (a profile is only safe
    to snapshot from its own thread, between two runs)."""
    prof = getattr(_LOCAL, "prof", None)
    if prof is None:
        return
    prof.disable()
    if _DIR and time.monotonic() - _LOCAL.dumped > 5:
        _LOCAL.dumped = time.monotonic()
        _dump(prof, prefix, _thread_name())


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    from robotrace.wsgi import application as wrapped

    _enable("web")
    try:
        # The response body is built inside the view for these JSON routes, so
        # materialising it here keeps the whole request inside the profile.
        return list(wrapped(environ, start_response))
    finally:
        _disable("web")


def _start_thread_profile(frame: Any, event: str, arg: Any) -> None:
    """The first profile event of a thread the web process starts: from here on cProfile
    (which takes this function's place) profiles the thread. A request thread's profile is
    stopped at the end of its first request and from then on runs only during requests."""
    _enable("web")


def _dump_all() -> None:
    """At exit, after the relay's pool has been joined: write every thread's profile."""
    with _ALL_LOCK:
        profiles = list(_ALL)
    for prefix, thread, prof in profiles:
        _dump(prof, prefix, thread)


def run_worker(argv: list[str]) -> None:
    """`robotrace run_huey ARGV...` with every task profiled."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "robotrace.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from huey.contrib.djhuey import HUEY

    @HUEY.pre_execute(name="bench-profile")
    def _start(task: Any) -> None:
        _enable("worker")

    @HUEY.post_execute(name="bench-profile")
    def _stop(task: Any, value: Any, exc: Any) -> None:
        _disable("worker")

    call_command("run_huey", *argv)


if __name__ == "__main__":
    run_worker(sys.argv[1:])
elif _DIR and "gunicorn" in sys.modules:
    # Loaded by a web worker as its application: profile the threads it starts as well.
    threading.setprofile(_start_thread_profile)
    atexit.register(_dump_all)
