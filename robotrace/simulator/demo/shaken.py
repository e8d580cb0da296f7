"""Demo data: the simulated SHAKEN PKI (so simulated calls verify offline), one week of
signed calls from a honeypot reporter sent through the real intake path, signed the way
each demo provider behaves (an honest A/B signer, a C-signing gateway with a broken
signing box, a rogue signer outside the trust list, a stale clock), and verification of
every signed report in the demo world."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

import orjson
from django.utils import timezone

logger = logging.getLogger("robotrace.shaken")

# (SPC, attestation weights, fault weights) per demo signer.
SIGNERS: list[tuple[str, dict[str, float], dict[str | None, float]]] = [
    ("KV01", {"A": 0.8, "B": 0.2}, {None: 1.0}),
    ("NG02", {"C": 0.8, "B": 0.2}, {None: 0.8, "bad_signature": 0.12, "expired_certificate": 0.08}),
    ("777Z", {"A": 1.0}, {None: 0.7, "untrusted": 0.3}),
    ("KV01", {"A": 1.0}, {"stale": 1.0}),
]
SIGNER_WEIGHTS = [0.45, 0.3, 0.2, 0.05]


def _signed_lines(n: int, seed: int) -> list[bytes]:
    from robotrace.shaken.signing import sign_passport
    from robotrace.simulator.robocalls import generate, ingest_fields

    rng = random.Random(seed)
    start = (timezone.now() - timedelta(days=7)).replace(microsecond=0)
    calls = [ingest_fields(c) for c in generate(n, seed=seed, start=start, days=7, id_prefix="demo-shaken", complaint_share=0.0)]
    lines = []
    for call in calls:
        spc, attests, faults = rng.choices(SIGNERS, SIGNER_WEIGHTS)[0]
        attest = rng.choices(list(attests), list(attests.values()))[0]
        fault = rng.choices(list(faults), list(faults.values()))[0]
        from datetime import datetime

        at = datetime.fromisoformat(call["call_started_at"])
        call["identity_header"] = sign_passport(spc, call["calling_number"], call["called_number"], attest, iat=int(at.timestamp()), fault=fault)
        lines.append(orjson.dumps(call) + b"\n")
    return lines


def seed(world: Any) -> None:
    from robotrace.shaken import services, signing

    signing.ensure_pki()
    org = world.orgs.get("honeynet")
    if org is not None:
        from robotrace.ingest import services as ingest

        ingest.receive(organisation=org, actor=None, chunks=[b"".join(_signed_lines(160, seed=808))], fmt="ndjson")
    total = services.catch_up_all()
    logger.info("shaken demo: verified %s signed reports", total)
