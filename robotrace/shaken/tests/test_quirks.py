"""CA certificates with the NULL-parameter quirk load, and their signatures are still checked."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from robotrace.shaken.quirks import _len, load_pem_tolerant, verify_issued_by
from robotrace.shaken.signing import _dn, _issue
from robotrace.shaken.verifier import build_chain

FIXED = bytes.fromhex("300a06082a8648ce3d040302")
NULLED = bytes.fromhex("300c06082a8648ce3d0403020500")


def _with_null_params(cert: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Re-encode `cert` the way some deployed CAs do, and sign it again (as the CA did)."""
    tbs = cert.tbs_certificate_bytes
    body = tbs[2:] if tbs[1] < 0x80 else tbs[2 + (tbs[1] & 0x7F):]
    body = body.replace(FIXED, NULLED, 1)
    new_tbs = b"\x30" + _len(len(body)) + body
    sig = issuer_key.sign(new_tbs, ec.ECDSA(hashes.SHA256()))
    bitstring = b"\x03" + _len(len(sig) + 1) + b"\x00" + sig
    outer = new_tbs + NULLED + bitstring
    der = b"\x30" + _len(len(outer)) + outer
    import base64

    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


def test_it_loads_a_null_parameter_ca_and_checks_its_signature():
    now = dt.datetime.now(dt.UTC)
    nb, na = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    root_k, ca_k, leaf_k, other_k = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    root_n, ca_n = _dn("SHAKEN Q Root", "Q"), _dn("SHAKEN Q CA", "Q")
    root = _issue("root", root_n, root_k, root_n, root_k, nb, na)
    ca = _issue("ca", ca_n, ca_k, root_n, root_k, nb, na)
    leaf = _issue("leaf", _dn("SHAKEN Q001", "Q"), leaf_k, ca_n, ca_k, nb, na, "Q001")
    quirky_pem = _with_null_params(ca, root_k)
    try:
        x509.load_pem_x509_certificate(quirky_pem)
        strict_refuses = False
    except ValueError:
        strict_refuses = True
    assert strict_refuses  # the quirk is real: cryptography refuses it
    chain_pem = leaf.public_bytes(serialization.Encoding.PEM) + quirky_pem
    certs, quirks = load_pem_tolerant(chain_pem)
    assert quirks == 1 and certs[1].subject == ca.subject
    assert verify_issued_by(certs[1], root)
    assert not build_chain(certs[0], certs[1:], [root], strict=True).error
    # A forged quirky CA (signed by someone else) is still refused.
    forged = load_pem_tolerant(_with_null_params(ca, other_k))[0][0]
    assert not verify_issued_by(forged, root)
    assert build_chain(certs[0], [forged], [root], strict=True).error


def test_it_builds_the_real_tmobile_chain(shared_vectors):
    folder = shared_vectors / "certs" / "real" / "tmobile"
    leaf = load_pem_tolerant((folder / "leaf-6529-d35d8ecb.pem").read_bytes())[0][0]
    inter = load_pem_tolerant((folder / "intermediate-a22dda81.pem").read_bytes())[0]
    root = load_pem_tolerant((folder / "root-d54b8c44.pem").read_bytes())[0]
    result = build_chain(leaf, inter, root, strict=False)
    assert not result.error and len(result.path) == 3
