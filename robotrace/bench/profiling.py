"""The web application wrapped in cProfile, for `robotrace bench traceback --profile DIR`.

Only the benchmark serves this module (never production): each request runs under a
per-thread `cProfile.Profile` (cProfile only sees the thread that enabled it), and the
statistics are written every few seconds, so a worker killed at the end of the run still
leaves its profile. Each thread writes its own file
(`DIR/web-<pid>-<thread>.prof`); `pstats.Stats(*files)` merges them.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from robotrace.wsgi import application as _application

_DIR = os.environ.get("ROBOTRACE_BENCH_PROFILE_DIR", "")
# "cpu" counts each thread's own CPU time (what the 2 cores spend); "wall" (the default)
# also counts waits: the SQLite write lock, the GIL, the network.
_TIMER = time.thread_time if os.environ.get("ROBOTRACE_BENCH_PROFILE_CLOCK") == "cpu" else time.perf_counter
_LOCAL = threading.local()


def profiled(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn` under this thread's profiler; every 5 s the thread writes its statistics
    (cProfile only sees the thread that enabled it, and a profile is only safe to snapshot
    from its own thread, between two runs)."""
    prof = getattr(_LOCAL, "prof", None)
    if prof is None:
        prof = _LOCAL.prof = cProfile.Profile(_TIMER)
        _LOCAL.dumped = time.monotonic()
    prof.enable()
    try:
        return fn(*args, **kwargs)
    finally:
        prof.disable()
        if _DIR and time.monotonic() - _LOCAL.dumped > 5:
            _LOCAL.dumped = time.monotonic()
            name = f"web-{os.getpid()}-{threading.get_ident()}.prof"
            tmp = os.path.join(_DIR, "." + name)
            pstats.Stats(prof).dump_stats(tmp)
            os.replace(tmp, os.path.join(_DIR, name))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    # The response body is built inside the view for these JSON routes, so materialising it
    # here keeps the whole request inside the profile.
    return profiled(lambda: list(_application(environ, start_response)))


def _wrap_background() -> None:
    """Profile the webhook sender pool and the outcome flusher too: their CPU is the web
    process's as much as the requests' is."""
    from robotrace.tracebacks import services

    send, flush = services._send_claimed, services.flush_sent
    services._send_claimed = lambda *a, **k: profiled(send, *a, **k)  # type: ignore[assignment]
    services.flush_sent = lambda *a, **k: profiled(flush, *a, **k)  # type: ignore[assignment]


if _DIR:
    _wrap_background()
