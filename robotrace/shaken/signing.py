"""A simulated SHAKEN PKI for the simulator, the demo and tests: root -> intermediate ->
one leaf per provider SPC (TNAuthList with that SPC, CP 1.4 policy), generated at run time
under VAR_DIR/shaken/pki. The root is registered as a trust anchor and each leaf's x5u URL in
the local certificate store, so simulated calls verify offline.

The private keys are those of a throw-away simulation PKI, never a real credential.

    from robotrace.shaken.signing import sign_passport
    header = sign_passport(spc="KV01", orig="12025550143", dest="19195550100", attest="A",
                           origid="…uuid…", iat=int(call_time.timestamp()))

`fault` makes a bad signer: "bad_signature", "expired_certificate", "untrusted", "stale".
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from robotrace.shaken import conf
from robotrace.shaken.verifier import CP_1_4, TN_AUTH_LIST_OID, b64url_encode

SIM_BASE_URL = "https://sim-certs.robotrace.example/shaken/"
STI_PA_CRL = "https://authenticate-api.iconectiv.com/download/v1/crl"
FAULTS = {None, "", "bad_signature", "expired_certificate", "untrusted", "stale"}

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[ec.EllipticCurvePrivateKey, str]] = {}


def _dn(cn: str, org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def tn_auth_list_der(spc: str) -> bytes:
    """SEQUENCE { [0] EXPLICIT IA5String spc } (RFC 8226)."""
    raw = spc.encode("ascii")
    ia5 = bytes([0x16, len(raw)]) + raw
    tagged = bytes([0xA0, len(ia5)]) + ia5
    return bytes([0x30, len(tagged)]) + tagged


def _issue(
    kind: str,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    spc: str = "",
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(os.urandom(16), "big") >> 1 | 1 << 120)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.BasicConstraints(ca=kind != "leaf", path_length=0 if kind == "ca" else None), critical=True)
        .add_extension(
            x509.KeyUsage(kind == "leaf", False, False, False, False, kind != "leaf", False, False, False), critical=True
        )
    )
    if kind != "root":
        builder = builder.add_extension(x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(CP_1_4), None)]), critical=False)
        builder = builder.add_extension(
            x509.CRLDistributionPoints([
                x509.DistributionPoint([x509.UniformResourceIdentifier(STI_PA_CRL)], None, None, [x509.DirectoryName(_dn("STI-PA CRL", "STI-PA"))])
            ]),
            critical=False,
        )
    if kind == "leaf":
        builder = builder.add_extension(x509.UnrecognizedExtension(TN_AUTH_LIST_OID, tn_auth_list_der(spc)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    if private:
        os.chmod(tmp, 0o600)
    tmp.replace(path)


@contextmanager
def _file_lock(folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class _Ca:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def pki_dir() -> Path:
    return conf.shaken_dir() / "pki"


def _load_or_make_ca(folder: Path, stem: str, make: Any) -> _Ca:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return _Ca(cert.subject, key, cert)
    ca = make()
    _write(key_path, _key_pem(ca.key), private=True)
    _write(cert_path, _pem(ca.cert))
    return ca


def ensure_pki() -> tuple[_Ca, _Ca, _Ca]:
    """(root, intermediate, untrusted intermediate), made once per VAR_DIR."""
    folder = pki_dir()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = dt.datetime(2015, 1, 1, tzinfo=dt.UTC), now + dt.timedelta(days=3650)

    def make_ca(cn: str, org: str, issuer: _Ca | None = None) -> Any:
        """A self-signed root when `issuer` is None, else an issuing CA signed by `issuer`:
        the trusted and the rogue hierarchy are built the same way."""

        def _make() -> _Ca:
            key = ec.generate_private_key(ec.SECP256R1())
            name = _dn(cn, org)
            if issuer is None:
                return _Ca(name, key, _issue("root", name, key, name, key, start, end))
            return _Ca(name, key, _issue("ca", name, key, issuer.name, issuer.key, start, end))

        return _make

    with _file_lock(folder):
        root = _load_or_make_ca(folder, "root", make_ca("SHAKEN Robotrace Simulated Root CA", "Robotrace Simulation"))
        inter = _load_or_make_ca(folder, "intermediate", make_ca("SHAKEN Robotrace Simulated Issuing CA", "Robotrace Simulation", root))
        rogue_root = _load_or_make_ca(folder, "rogue-root", make_ca("SHAKEN Rogue Root CA", "Not An STI-CA"))
        rogue = _load_or_make_ca(folder, "rogue-intermediate", make_ca("SHAKEN Rogue Issuing CA", "Not An STI-CA", rogue_root))
        anchors = conf.anchors_dir()
        anchors.mkdir(parents=True, exist_ok=True)
        anchor_file = anchors / "simulated-root.pem"
        root_pem = _pem(root.cert)
        if not anchor_file.exists() or anchor_file.read_bytes() != root_pem:
            _write(anchor_file, root_pem)
    return root, inter, rogue


def x5u_for(spc: str, fault: str | None = None) -> str:
    suffix = {"expired_certificate": "-expired", "untrusted": "-rogue"}.get(fault or "", "")
    return f"{SIM_BASE_URL}{spc}{suffix}.pem"


def _leaf(spc: str, fault: str | None) -> tuple[ec.EllipticCurvePrivateKey, str]:
    var = str(conf.shaken_dir())
    variant = {"expired_certificate": "expired", "untrusted": "rogue"}.get(fault or "", "good")
    cache_key = (var, f"{spc}:{variant}")
    hit = _cache.get(cache_key)
    if hit is not None:
        return hit
    with _lock:
        root, inter, rogue = ensure_pki()
        folder = pki_dir() / "leaves"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{spc}-{variant}"
        key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.pem"
        url = x5u_for(spc, fault)
        with _file_lock(pki_dir()):
            if key_path.exists() and cert_path.exists():
                key = serialization.load_pem_private_key(key_path.read_bytes(), None)
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                chain_pem = cert_path.read_bytes()
            else:
                key = ec.generate_private_key(ec.SECP256R1())
                now = dt.datetime.now(dt.UTC).replace(microsecond=0)
                if variant == "expired":
                    nb, na = now - dt.timedelta(days=3 * 365), now - dt.timedelta(days=2 * 365)
                else:
                    nb, na = now - dt.timedelta(days=2 * 365), now + dt.timedelta(days=365)
                issuer = rogue if variant == "rogue" else inter
                cert = _issue("leaf", _dn(f"SHAKEN {spc}", f"Simulated provider {spc}"), key, issuer.name, issuer.key, nb, na, spc)
                chain_pem = _pem(cert, issuer.cert)
                _write(key_path, _key_pem(key), private=True)
                _write(cert_path, chain_pem)
            from robotrace.shaken.x5u import LocalCertStore

            store = LocalCertStore(conf.cert_store_dir())
            if not store.knows(url):
                store.add(url, chain_pem, persist=True, name=f"sim-{stem}.pem")
        from robotrace.shaken import runtime

        runtime.invalidate()
        _cache[cache_key] = (key, url)
        return key, url


_SPC_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")


def sign_passport(
    spc: str,
    orig: str,
    dest: str | list[str],
    attest: str,
    origid: str | None = None,
    iat: int | None = None,
    *,
    fault: str | None = None,
) -> str:
    """A SIP Identity header value (without the `Identity: ` name) signed by the simulated
    leaf of `spc`. Numbers are canonicalised to digits without '+'."""
    if not _SPC_RE.match(spc or ""):
        raise ValueError(f"spc {spc!r} must be 1-16 letters or digits")
    if attest not in ("A", "B", "C"):
        raise ValueError(f"attest {attest!r} must be A, B or C")
    if fault not in FAULTS:
        raise ValueError(f"fault {fault!r} must be one of {sorted(f for f in FAULTS if f)}")
    key, url = _leaf(spc.upper(), fault)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    iat = now if iat is None else int(iat)
    if fault == "stale":
        iat -= 3600
    dests = [dest] if isinstance(dest, str) else list(dest)
    header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": url}
    claims = {
        "attest": attest,
        "dest": {"tn": ["".join(c for c in d if c.isdigit()) for d in dests]},
        "iat": iat,
        "orig": {"tn": "".join(c for c in orig if c.isdigit())},
        "origid": origid or str(uuid.uuid4()),
    }
    enc = lambda obj: b64url_encode(json.dumps(obj, separators=(",", ":"), sort_keys=True).encode())  # noqa: E731
    signing_input = f"{enc(header)}.{enc(claims)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if fault == "bad_signature":
        sig = sig[:-1] + bytes([sig[-1] ^ 0x01])
    return f"{signing_input}.{b64url_encode(sig)};info=<{url}>;alg=ES256;ppt=shaken"


def simulated_root_pem() -> bytes:
    root, _, _ = ensure_pki()
    return _pem(root.cert)
