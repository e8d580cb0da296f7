"""An independent throw-away PKI for tests, built in memory (our own, not the shared vectors)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from robotrace.shaken.signing import _dn, _issue, _pem
from robotrace.shaken.verifier import CallContext, Verifier, b64url_encode
from robotrace.shaken.x5u import LocalCertStore

UTC = dt.UTC
CALL = dt.datetime(2026, 3, 2, 15, 30, 0, tzinfo=UTC)
IAT = int(CALL.timestamp()) - 2
URL = "https://certs.test.example/shaken/TST9.pem"
ORIG, DEST = "12025550143", "19195550100"
DROP = object()


@dataclass
class Pki:
    root: x509.Certificate
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    leaf_key: ec.EllipticCurvePrivateKey
    store: LocalCertStore
    extra: dict[str, Any] = field(default_factory=dict)

    def verifier(self, **kw: Any) -> Verifier:
        return Verifier(trust_anchors=[self.root], source=self.store, **kw)

    def token(self, hdr: dict[str, Any] | None = None, claims: dict[str, Any] | bytes | None = None, key: Any = None, **claim_edits: Any) -> str:
        h = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": URL}
        if hdr:
            h.update(hdr)
            h = {k: v for k, v in h.items() if v is not DROP}
        if isinstance(claims, bytes):
            body = claims
        else:
            c: dict[str, Any] = {"attest": "A", "dest": {"tn": [DEST]}, "iat": IAT, "orig": {"tn": ORIG}, "origid": "0f4c2a8e-5b3e-4a8e-9a43-2b6f0d1c7e55"}
            c.update(claims or {})
            c.update(claim_edits)
            c = {k: v for k, v in c.items() if v is not DROP}
            body = json.dumps(c, separators=(",", ":"), sort_keys=True).encode()
        signing_input = b64url_encode(json.dumps(h, separators=(",", ":")).encode()) + "." + b64url_encode(body)
        r, s = decode_dss_signature((key or self.leaf_key).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def header(self, params: str | None = None, url: str = URL, **kw: Any) -> str:
        tok = self.token(**kw)
        return tok + (params if params is not None else f";info=<{url}>;alg=ES256;ppt=shaken")


def ctx(**kw: Any) -> CallContext:
    base: dict[str, Any] = {"call_time": CALL, "orig_tn": ORIG, "dest_tn": DEST}
    base.update(kw)
    return CallContext(**base)


def build() -> Pki:
    nb, na = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2030, 1, 1, tzinfo=UTC)
    new = lambda: ec.generate_private_key(ec.SECP256R1())  # noqa: E731
    root_k, ca_k, leaf_k = new(), new(), new()
    root_n, ca_n = _dn("SHAKEN Test Root", "Tests"), _dn("SHAKEN Test CA", "Tests")
    root = _issue("root", root_n, root_k, root_n, root_k, nb, na)
    ca = _issue("ca", ca_n, ca_k, root_n, root_k, nb, na)
    leaf = _issue("leaf", _dn("SHAKEN TST9", "Test Provider"), leaf_k, ca_n, ca_k, dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 12, 1, tzinfo=UTC), "TST9")
    store = LocalCertStore()
    store.add(URL, _pem(leaf, ca))
    # Variants served at other URLs, all with the same leaf key unless said otherwise.
    expired = _issue("leaf", _dn("SHAKEN TST9", "Test Provider"), leaf_k, ca_n, ca_k, dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 12, 31, tzinfo=UTC), "TST9")
    store.add("https://certs.test.example/shaken/expired.pem", _pem(expired, ca))
    u_root_k, u_ca_k = new(), new()
    u_root_n, u_ca_n = _dn("SHAKEN Rogue Root", "Rogue"), _dn("SHAKEN Rogue CA", "Rogue")
    u_root = _issue("root", u_root_n, u_root_k, u_root_n, u_root_k, nb, na)
    u_ca = _issue("ca", u_ca_n, u_ca_k, u_root_n, u_root_k, nb, na)
    rogue = _issue("leaf", _dn("SHAKEN TST9", "Rogue"), leaf_k, u_ca_n, u_ca_k, nb, na, "TST9")
    store.add("https://certs.test.example/shaken/rogue.pem", _pem(rogue, u_ca))
    no_tn = _issue("leaf", _dn("SHAKEN TST9", "Test Provider"), leaf_k, ca_n, ca_k, nb, na, "TST9")
    # A leaf without TNAuthList: rebuild without the extension.
    builder = x509.CertificateBuilder().subject_name(no_tn.subject).issuer_name(ca_n).public_key(leaf_k.public_key()).serial_number(no_tn.serial_number + 1)
    builder = builder.not_valid_before(nb).not_valid_after(na)
    for ext in no_tn.extensions:
        if ext.oid.dotted_string != "1.3.6.1.5.5.7.1.26":
            builder = builder.add_extension(ext.value, ext.critical)
    no_tn = builder.sign(ca_k, hashes.SHA256())
    store.add("https://certs.test.example/shaken/notn.pem", _pem(no_tn, ca))
    store.add("https://certs.test.example/shaken/garbage.pem", b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    store.add("https://certs.test.example/shaken/empty.pem", b"")
    store.add_marker("https://certs.test.example/shaken/404.pem", "!404")
    store.add_marker("https://certs.test.example/shaken/slow.pem", "!timeout")
    return Pki(root=root, ca=ca, ca_key=ca_k, leaf_key=leaf_k, store=store, extra={"leaf": leaf, "u_root": u_root})
