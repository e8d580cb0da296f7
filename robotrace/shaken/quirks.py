"""Loading real-world certificates that `cryptography` refuses for one known quirk.

Some deployed SHAKEN CA certificates (T-Mobile's, in the public compliance report) encode
ecdsa-with-SHA256/384 with an explicit NULL parameter, which RFC 5758 §3.2 forbids and
`cryptography` refuses to parse. Refusing them would fail every call whose x5u chain
includes such a CA, so we load a copy with the parameter removed (to read its fields) and
keep the original to-be-signed bytes and signature, so the issuer's signature is still
checked over exactly what the issuer signed. The quirk is recorded, never silently fixed.
"""

from __future__ import annotations

import base64
import re
import threading

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# AlgorithmIdentifier { ecdsa-with-SHA256 | SHA384, NULL }
_NULL_ALGS = {
    bytes.fromhex("300c06082a8648ce3d0403020500"): (bytes.fromhex("300a06082a8648ce3d040302"), hashes.SHA256()),
    bytes.fromhex("300c06082a8648ce3d0403030500"): (bytes.fromhex("300a06082a8648ce3d040303"), hashes.SHA384()),
}
_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)

_lock = threading.Lock()
# fingerprint of the patched copy -> (original tbs bytes, signature, hash)
ORIGINAL_SIGNED: dict[bytes, tuple[bytes, bytes, hashes.HashAlgorithm]] = {}


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(buf: bytes, i: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value)."""
    tag, ln = buf[i], buf[i + 1]
    i += 2
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(buf[i : i + n], "big")
        i += n
    if i + ln > len(buf):
        raise ValueError("truncated DER")
    return tag, i, i + ln


def strip_null_params(der: bytes) -> tuple[bytes, bytes, bytes, hashes.HashAlgorithm] | None:
    """(patched DER, original TBS, signature) when `der` has the NULL-parameter quirk."""
    tag, start, end = _tlv(der, 0)
    if tag != 0x30:
        return None
    _, tbs_start, tbs_end = _tlv(der, start)
    tbs_full = der[start:tbs_end]
    _, alg_start, alg_end = _tlv(der, tbs_end)
    alg_full = der[tbs_end:alg_end]
    _, sig_start, sig_end = _tlv(der, alg_end)
    if alg_full not in _NULL_ALGS or sig_end != end:
        return None
    fixed_alg, hash_alg = _NULL_ALGS[alg_full]
    tbs_body = der[tbs_start:tbs_end].replace(alg_full, fixed_alg, 1)
    new_tbs = b"\x30" + _len(len(tbs_body)) + tbs_body
    bitstring = der[alg_end:sig_end]
    body = new_tbs + fixed_alg + bitstring
    sig_value = der[sig_start + 1 : sig_end]  # skip the unused-bits octet
    return b"\x30" + _len(len(body)) + body, tbs_full, sig_value, hash_alg


def load_der_tolerant(der: bytes) -> tuple[x509.Certificate, bool]:
    try:
        return x509.load_der_x509_certificate(der), False
    except ValueError:
        patched = strip_null_params(der)
        if patched is None:
            raise
        cert = x509.load_der_x509_certificate(patched[0])
        with _lock:
            ORIGINAL_SIGNED[cert.fingerprint(hashes.SHA256())] = (patched[1], patched[2], patched[3])
        return cert, True


def load_pem_tolerant(data: bytes) -> tuple[list[x509.Certificate], int]:
    """All certificates of a PEM bundle; (certificates, how many needed the quirk)."""
    try:
        return x509.load_pem_x509_certificates(data), 0
    except ValueError:
        pass
    blocks = _PEM_RE.findall(data)
    if not blocks:
        raise ValueError("no PEM certificate")
    out, quirks = [], 0
    for block in blocks:
        try:
            der = base64.b64decode(b"".join(block.split()), validate=True)
        except ValueError as exc:
            raise ValueError("PEM block is not base64") from exc
        cert, quirk = load_der_tolerant(der)
        out.append(cert)
        quirks += int(quirk)
    return out, quirks


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Signature and name link, over the original bytes for quirk-loaded certificates."""
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        pass
    except Exception:  # noqa: BLE001 - unusual keys raise assorted errors: not the issuer
        return False
    original = ORIGINAL_SIGNED.get(cert.fingerprint(hashes.SHA256()))
    if original is None or cert.issuer != issuer.subject:
        return False
    tbs, sig, hash_alg = original
    key = issuer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(sig, tbs, ec.ECDSA(hash_alg))
    except InvalidSignature:
        return False
    return True
