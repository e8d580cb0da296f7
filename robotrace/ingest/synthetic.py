"""Synthetic call reports for the intake benchmark and the ingest tests.

Realistic shape: a few campaigns whose transcripts repeat with a callback number, callers
spoofed across many numbers (some invalid), called numbers spread over real area codes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

SCRIPTS = [
    ("warranty", "This is the vehicle service department calling about your car's extended warranty. Press one or call us back at {cb}."),
    ("ssa", "This call is from the Social Security Administration. Your social security number has been suspended. Call {cb} immediately."),
    ("medicare", "Hi, this is an important message about your Medicare benefits card. Call us back at {cb} to receive your new card."),
    ("utility", "Final notice from your electric company: your power will be disconnected in 30 minutes. Call {cb} to pay now."),
    ("student_loans", "We are calling about your federal student loan forgiveness application. Call {cb} before the deadline."),
]
CALLBACKS = ["833-304-1447", "888-555-2834", "844-921-0044", "877-630-1922", "855-411-7780"]
AREA_CODES = ["212", "305", "312", "404", "512", "614", "704", "919", "213", "602", "617", "720", "803", "216", "336"]
REPORT_TYPES = ["carrier_analytics", "app_report", "honeypot"]


def _exchange(rng: random.Random) -> int:
    """An assignable exchange: not N11, not 555 (fiction/directory), not 958/959 (test)."""
    while True:
        nxx = rng.randrange(200, 1000)
        if nxx % 100 != 11 and nxx not in (555, 958, 959):
            return nxx


def report(i: int, *, rng: random.Random, now: datetime, prefix: str = "syn") -> dict[str, Any]:
    script = rng.randrange(len(SCRIPTS))
    category, text = SCRIPTS[script]
    caller_npa = rng.choice(AREA_CODES)
    # One caller in fifty is an impossible number (spoofing signal).
    calling = f"{caller_npa}555{rng.randrange(100, 200):04d}" if i % 50 == 0 else f"{caller_npa}{_exchange(rng)}{rng.randrange(10000):04d}"
    called = f"+1{rng.choice(AREA_CODES)}{_exchange(rng)}{rng.randrange(10000):04d}"
    started = now - timedelta(seconds=rng.randrange(1, 86_400 * 3))
    return {
        "source_report_id": f"{prefix}-{i}",
        "report_type": REPORT_TYPES[i % 3],
        "call_started_at": started.isoformat(timespec="seconds"),
        "calling_number": calling,
        "called_number": called,
        "duration_seconds": rng.randrange(5, 120),
        "transcript": text.format(cb=CALLBACKS[script]),
        "category": category,
    }


def ndjson_lines(count: int, *, start: int = 0, seed: int = 7, prefix: str = "syn", now: datetime | None = None) -> Iterator[bytes]:
    rng = random.Random(seed + start)
    when = now or datetime.now(UTC)
    for i in range(start, start + count):
        yield orjson.dumps(report(i, rng=rng, now=when, prefix=prefix)) + b"\n"


def ndjson(count: int, **kw: Any) -> bytes:
    return b"".join(ndjson_lines(count, **kw))
