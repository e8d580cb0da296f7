"""Synthetic robocall reports: the project's scripts played the way real campaigns run.

Each campaign (one script) records a few *recordings* (its slot values filled once: agent,
amount, product, callback number) and plays them from a rotating pool of caller IDs, some
spoofed to look local to the called number, over the days it is active, through a few
upstream providers, sometimes in bursts. Each report is what a reporter would send:

- honeypots and blocking apps send a transcript (speech recognition: dropped words,
  homophones, misheard words; often a fragment because the recording started late or the
  line was cut) and sometimes the recording's SHA-256;
- consumer complaints usually carry no transcript, only the caller ID and perhaps the
  callback number the consumer noted.

Everything is deterministic for a given seed. `generate` yields dicts whose keys are the
ingest field names (robotrace.ingest.schema.ReportIn) plus `true_campaign` and
`true_category`, the ground truth for scoring; `ingest_fields(call)` strips the truth.
Used by the demo seeder, the tests, the campaign benchmarks and the network simulator.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from robotrace.simulator.scripts import SCRIPTS, Script

STATES = ("CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ", "MA", "TN", "IN", "MO", "MD", "WI")
# Area codes per state so spoofed "neighbour" caller IDs look local.
AREA_CODES = {
    "CA": "213", "TX": "214", "FL": "305", "NY": "212", "PA": "215", "IL": "312", "OH": "614", "GA": "404", "NC": "919", "MI": "313",
    "NJ": "201", "VA": "703", "WA": "206", "AZ": "602", "MA": "617", "TN": "615", "IN": "317", "MO": "314", "MD": "410", "WI": "414",
}
UPSTREAMS = ("Bluewave Telecom", "Transit One LLC", "Orbital VoIP", "Crestline Carrier Services", "Nimbus Wholesale", "Pacific Gateway Voice", "Atlas Route Ltd")
TOLL_FREE = ("833", "844", "855", "866", "877", "888")

# Speech-recognition confusions: homophones and near-misses Whisper-like systems make.
HOMOPHONES = {
    "to": "two", "two": "to", "for": "four", "your": "you're", "you're": "your", "their": "there", "there": "their",
    "press": "pressed", "one": "won", "right": "write", "hear": "here", "here": "hear", "by": "buy", "our": "are",
    "account": "a count", "officer": "office", "security": "secure it", "warranty": "warrant he", "department": "apartment",
    "disconnected": "disconnect it", "immediately": "immediate", "vehicle's": "vehicles", "interest": "interests",
    "amazon": "amazon's", "social": "special", "refund": "re fund", "minutes": "minute", "call": "cool",
}
FILLERS = ("uh", "um", "the", "a", "and", "so")


@dataclass
class SimCampaign:
    key: str
    script: Script
    weight: float
    recordings: list[tuple[str, str, list[str]]]  # (transcript, sha256, callback numbers)
    caller_ids: list[str]
    upstreams: list[str]
    states: list[str]
    start_day: int
    days: int
    spoof_local: bool
    burst_share: float
    pool_next: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _exchange(rng: random.Random) -> int:
    # A valid NANP exchange: not N11 (service codes), 555 (fiction) or 958/959 (carrier testing).
    while True:
        x = rng.randint(200, 999)
        if x not in (555, 958, 959) and x % 100 != 11:
            return x


def _number(rng: random.Random, area: str | None = None) -> str:
    area = area or rng.choice(tuple(AREA_CODES.values()))
    return f"+1{area}{_exchange(rng)}{rng.randint(0, 9999):04d}"


def _spoken(e164: str) -> str:
    d = e164[2:]
    return f"{d[:3]}-{d[3:6]}-{d[6:]}"


def _fill(rng: random.Random, script: Script, callback: str) -> str:
    values = {k: rng.choice(v) for k, v in script.slots.items()}
    values["callback"] = _spoken(callback)
    return script.text.format(**values)


def build_campaigns(rng: random.Random, *, days: int, copies: int = 1) -> list[SimCampaign]:
    """One campaign per script (times `copies`, separate operators of the same script)."""
    out: list[SimCampaign] = []
    for copy in range(copies):
        for script in SCRIPTS:
            callbacks = [f"+1{rng.choice(TOLL_FREE)}{_exchange(rng)}{rng.randint(0, 9999):04d}" for _ in range(rng.randint(1, 3))]
            recordings = []
            for _ in range(rng.randint(1, 4)):
                cb = rng.choice(callbacks)
                text = _fill(rng, script, cb)
                sha = hashlib.sha256(f"{script.key}|{copy}|{text}".encode()).hexdigest()
                recordings.append((text, sha, [cb] if "{callback}" in script.text else []))
            states = rng.sample(STATES, rng.randint(3, len(STATES)))
            start = rng.randint(0, max(0, days // 2))
            out.append(
                SimCampaign(
                    key=script.key if copies == 1 else f"{script.key}#{copy}",
                    script=script,
                    weight=script.weight * rng.uniform(0.5, 1.5),
                    recordings=recordings,
                    caller_ids=[_number(rng) for _ in range(rng.randint(5, 60))],
                    upstreams=rng.sample(UPSTREAMS, rng.randint(1, 3)),
                    states=states,
                    start_day=start,
                    days=rng.randint(max(1, days // 3), max(1, days - start)),
                    spoof_local=rng.random() < 0.4,
                    burst_share=rng.choice((0.0, 0.0, 0.1, 0.3)),
                )
            )
    return out


def asr_noise(rng: random.Random, text: str, *, error_rate: float) -> str:
    """Drop, substitute and insert words the way speech recognition does."""
    words = text.split()
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < error_rate * 0.35:
            continue  # dropped
        if r < error_rate * 0.8:
            bare = w.strip(".,!?").lower()
            if bare in HOMOPHONES:
                out.append(HOMOPHONES[bare])
                continue
            if len(bare) > 4 and rng.random() < 0.5:
                i = rng.randrange(1, len(bare) - 1)
                out.append(bare[:i] + bare[i + 1 :])  # a misheard syllable
                continue
        if r > 1 - error_rate * 0.15:
            out.append(rng.choice(FILLERS))
        out.append(w)
    return " ".join(out)


def fragment(rng: random.Random, text: str) -> str:
    """What a recording that started late or was cut off transcribes to."""
    words = text.split()
    n = len(words)
    if n < 12:
        return text
    keep = rng.randint(max(8, n // 3), n - 2)
    start = rng.randint(0, n - keep) if rng.random() < 0.7 else 0
    return " ".join(words[start : start + keep])


def transcribe(rng: random.Random, text: str, *, clean_share: float = 0.55, fragment_share: float = 0.3) -> str:
    """The transcript a reporter would send for one play of a recording.

    Most plays of one recording transcribe identically (the engine's exact-duplicate path);
    the rest carry recognition noise and/or are fragments (the near-duplicate path)."""
    r = rng.random()
    if r < clean_share:
        return text
    if rng.random() < fragment_share:
        text = fragment(rng, text)
    return asr_noise(rng, text, error_rate=rng.uniform(0.02, 0.08))


def generate(
    n: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    days: int = 14,
    copies: int = 1,
    complaint_share: float = 0.2,
    recording_share: float = 0.2,
    id_prefix: str = "sim",
    campaigns: list[SimCampaign] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield `n` reports in time order (roughly), deterministically for `seed`."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    camps = campaigns or build_campaigns(rng, days=days, copies=copies)
    weights = [c.weight for c in camps]
    total_seconds = days * 86400
    step = total_seconds / max(n, 1)
    i = 0
    while i < n:
        camp = rng.choices(camps, weights)[0]
        at = start + timedelta(seconds=i * step + rng.random() * step)
        # Bursts: one caller ID ringing many numbers within minutes.
        burst = camp.burst_share and rng.random() < camp.burst_share
        size = min(n - i, rng.randint(20, 40)) if burst else 1
        caller_burst = rng.choice(camp.caller_ids)
        for k in range(size):
            state = rng.choice(camp.states)
            called = _number(rng, AREA_CODES[state])
            if burst:
                caller = caller_burst
            elif camp.spoof_local and rng.random() < 0.5:
                caller = _number(rng, AREA_CODES[state])  # neighbour spoofing: a fresh local number
            else:
                caller = camp.caller_ids[(camp.pool_next + rng.randrange(5)) % len(camp.caller_ids)]
                if rng.random() < 0.02:
                    camp.pool_next += 1  # rotation: the pool drifts over time
            text, sha, callbacks = rng.choice(camp.recordings)
            complaint = rng.random() < complaint_share
            report: dict[str, Any] = {
                "source_report_id": f"{id_prefix}-{seed}-{i:08d}",
                "report_type": "complaint" if complaint else rng.choice(("honeypot", "app_report", "carrier_analytics")),
                "call_started_at": (at + timedelta(seconds=k * rng.randint(2, 15))).isoformat(),
                "calling_number": caller,
                "called_number": called,
                "called_state": state,
                "duration_seconds": rng.randint(5, 90),
                "upstream_provider": rng.choice(camp.upstreams),
                "is_robocall": True,
                "true_campaign": camp.key,
                "true_category": camp.script.category,
            }
            if complaint:
                # Consumers rarely type a transcript; some note the callback number.
                if callbacks and rng.random() < 0.3:
                    report["callback_numbers"] = list(callbacks)
                report["subject"] = "Robocall"
                report["consumer_state"] = state
            else:
                report["transcript"] = transcribe(rng, text)
                if rng.random() < recording_share:
                    report["recording_sha256"] = sha
                if callbacks and rng.random() < 0.2:
                    report["callback_numbers"] = list(callbacks)
            yield report
            i += 1


TRUTH_KEYS = ("true_campaign", "true_category")


def ingest_fields(call: dict[str, Any]) -> dict[str, Any]:
    """The report as a reporter sends it (ground truth removed)."""
    return {k: v for k, v in call.items() if k not in TRUTH_KEYS}
