"""Full STIR/SHAKEN verifications per second with warm certificate caches, against the floor
of bare ES256 signature checks on the same headers, measured in the same run.

A throw-away PKI (root, intermediate, one leaf per SPC) is built in memory; the headers are
signed with it and served from an in-memory certificate store, so nothing touches the
network or the database. One warm-up pass fills the caches (x5u -> parsed chain, chain
path, profile result), as a verifier handling live traffic would have them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from robotrace.shaken.signing import _dn, _issue, _pem
from robotrace.shaken.verifier import CallContext, Verifier, b64url_decode, b64url_encode, es256_verify
from robotrace.shaken.x5u import LocalCertStore


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--headers", type=int, default=2000, help="distinct signed headers (default 2000)")
    parser.add_argument("--signers", type=int, default=20, help="distinct signing providers / certificates (default 20)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default 3 s)")
    parser.add_argument("--workers", type=int, default=1, help="also measure with this many processes (one per core)")


def build(n_headers: int, n_signers: int) -> tuple[Verifier, list[tuple[str, CallContext]], list[tuple[Any, bytes, bytes]]]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    nb, na = now - dt.timedelta(days=30), now + dt.timedelta(days=30)
    root_k, ca_k = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_n, ca_n = _dn("SHAKEN Bench Root", "Bench"), _dn("SHAKEN Bench CA", "Bench")
    root = _issue("root", root_n, root_k, root_n, root_k, nb, na)
    ca = _issue("ca", ca_n, ca_k, root_n, root_k, nb, na)
    store = LocalCertStore()
    signers = []
    for i in range(n_signers):
        spc = f"B{i:03d}"
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _issue("leaf", _dn(f"SHAKEN {spc}", f"Bench {spc}"), key, ca_n, ca_k, nb, na, spc)
        url = f"https://certs.bench.example/{spc}.pem"
        store.add(url, _pem(leaf, ca))
        signers.append((key, url, leaf.public_key()))
    verifier = Verifier(trust_anchors=[root], source=store)
    calls: list[tuple[str, CallContext]] = []
    floor: list[tuple[Any, bytes, bytes]] = []
    call_time = now
    iat = int(call_time.timestamp())
    for n in range(n_headers):
        key, url, pub = signers[n % n_signers]
        orig, dest = f"1202555{n % 10000:04d}", f"1919555{(n * 7) % 10000:04d}"
        hdr = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": url}
        claims = {"attest": "ABC"[n % 3], "dest": {"tn": [dest]}, "iat": iat, "orig": {"tn": orig}, "origid": str(uuid.uuid4())}
        enc = lambda o: b64url_encode(json.dumps(o, separators=(",", ":"), sort_keys=True).encode())  # noqa: E731
        signing_input = f"{enc(hdr)}.{enc(claims)}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        header = f"{signing_input}.{b64url_encode(sig)};info=<{url}>;alg=ES256;ppt=shaken"
        calls.append((header, CallContext(call_time=call_time, orig_tn=orig, dest_tn=dest)))
        floor.append((pub, signing_input.encode(), b64url_decode(b64url_encode(sig))))
    return verifier, calls, floor


def _interleaved(full: Callable[[], int], floor: Callable[[], int], seconds: float) -> tuple[float, float]:
    """Alternate one pass of each until both have run `seconds`: on a shared, noisy machine
    the two figures then see the same load, so their ratio stays meaningful."""
    t_full = t_floor = 0.0
    n_full = n_floor = 0
    while t_full < seconds or t_floor < seconds:
        start = time.perf_counter()
        n_full += full()
        mid = time.perf_counter()
        n_floor += floor()
        end = time.perf_counter()
        t_full += mid - start
        t_floor += end - mid
    return n_full / t_full, n_floor / t_floor


def _worker(args: tuple[int, int, float]) -> tuple[float, float]:
    n_headers, n_signers, seconds = args
    verifier, calls, floor = build(n_headers, n_signers)
    for header, ctx in calls:
        verifier.verify(header, ctx)
    return _interleaved(lambda: _verify_all(verifier, calls), lambda: _floor_all(floor), seconds)


def _verify_all(verifier: Verifier, calls: list[tuple[str, CallContext]]) -> int:
    for header, ctx in calls:
        verifier.verify(header, ctx)
    return len(calls)


def _floor_all(floor: list[tuple[Any, bytes, bytes]]) -> int:
    for pub, signing_input, sig in floor:
        es256_verify(pub, signing_input, sig)
    return len(floor)


def run(options: dict[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    progress("building PKI and signing headers")
    verifier, calls, floor = build(options["headers"], options["signers"])
    for header, ctx in calls:  # warm caches, and check every header verifies
        verdict = verifier.verify(header, ctx)
        if not verdict.verified:
            raise RuntimeError(f"bench header failed: {verdict.reason}")

    seconds = options["seconds"]
    progress("measuring full verifications and bare ES256 checks, interleaved")
    full, bare = _interleaved(lambda: _verify_all(verifier, calls), lambda: _floor_all(floor), seconds)
    workers = options["workers"]
    multi: dict[str, Any] = {}
    if workers > 1:
        import multiprocessing

        progress(f"measuring with {workers} processes")
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            rates = pool.map(_worker, [(options["headers"], options["signers"], seconds)] * workers)
        multi = {
            "workers": workers,
            "verifications_per_s_all_workers": round(sum(r[0] for r in rates)),
            "floor_es256_checks_per_s_all_workers": round(sum(r[1] for r in rates)),
        }
    return {
        "benchmark": "shaken",
        "verifications_per_s": round(full),
        "floor_es256_checks_per_s": round(bare),
        "ratio": round(full / bare, 3),
        "headers": len(calls),
        "signers": options["signers"],
        "threads": 1,
        "cpus": os.cpu_count(),
        **multi,
        "target": ">= 5000/s and ratio >= 0.5",
    }
