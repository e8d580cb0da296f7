"""RFC 3161 timestamp tokens for audit anchors, from the authority at AUDIT_TSA_URL.

A token is the authority's signed statement that it saw a digest at a time: it dates an
anchor without trusting our own clock or our own key. The request and the few fields of the
reply that we check are written and read here with a small DER reader (no ASN.1 library for
five fields): the authority granted the request, and the token's TSTInfo carries the SHA-256
of our checkpoint and our nonce. The token (a CMS SignedData) is kept as it came, in base64,
in the anchor. Checking its signature and certificate chain needs the authority's certificate
and is left to a verifier that has it, e.g. `openssl ts -verify` (docs/security.md);
`audit verify` re-checks that each stored token covers its own anchor.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.request
from typing import Any

from django.conf import settings

from robotrace.core import der

SHA256_OID = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1, DER with tag
TST_INFO_OID = bytes.fromhex("060b2a864886f70d0109100104")  # 1.2.840.113549.1.9.16.1.4
MAX_REPLY_BYTES = 256 * 1024
TIMEOUT_SECONDS = 15

SEQUENCE, SET, INTEGER, OCTET_STRING, OID, BOOLEAN, GENERALIZED_TIME = 0x30, 0x31, 0x02, 0x04, 0x06, 0x01, 0x18
EXPLICIT_0 = 0xA0


class TimestampError(Exception):
    """The authority could not be reached, refused, or answered something that is not a
    token for our checkpoint."""


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _integer(n: int) -> bytes:
    return _tlv(INTEGER, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def request_for(digest: bytes, nonce: int) -> bytes:
    """TimeStampReq: version 1, the SHA-256 imprint, a nonce, and the signer's certificate
    asked for (so the token can be checked without fetching it)."""
    imprint = _tlv(SEQUENCE, _tlv(SEQUENCE, SHA256_OID + b"\x05\x00") + _tlv(OCTET_STRING, digest))
    return _tlv(SEQUENCE, _integer(1) + imprint + _integer(nonce) + _tlv(BOOLEAN, b"\xff"))


def _read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One DER element at `pos`: (tag, content, position after it)."""
    try:
        return der.read(data, pos)
    except ValueError as exc:
        raise TimestampError(str(exc)) from exc


def _children(content: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, content, whole element) of each element inside a constructed one."""
    out, pos = [], 0
    while pos < len(content):
        start = pos
        tag, inner, pos = _read(content, pos)
        out.append((tag, inner, content[start:pos]))
    return out


def _expect(element: tuple[int, bytes, bytes], tag: int, what: str) -> bytes:
    if element[0] != tag:
        raise TimestampError(f"{what}: unexpected DER tag 0x{element[0]:02x}")
    return element[1]


def read_token(token: bytes) -> dict[str, Any]:
    """The TSTInfo fields we rely on: imprint digest (SHA-256 only), nonce, genTime."""
    tag, content_info, _ = _read(token)
    if tag != SEQUENCE:
        raise TimestampError("the token is not a ContentInfo")
    ci = _children(content_info)
    signed = _children(_expect(ci[1], EXPLICIT_0, "ContentInfo content"))
    signed_data = _children(_expect(signed[0], SEQUENCE, "SignedData"))
    encap = _children(_expect(signed_data[2], SEQUENCE, "encapContentInfo"))
    if encap[0][2] != TST_INFO_OID:
        raise TimestampError("the token does not carry a TSTInfo")
    octets = _children(_expect(encap[1], EXPLICIT_0, "eContent"))
    tst_tag, tst_content, _ = _read(_expect(octets[0], OCTET_STRING, "eContent"))
    if tst_tag != SEQUENCE:
        raise TimestampError("TSTInfo is not a SEQUENCE")
    tst = _children(tst_content)
    imprint = _children(_expect(tst[2], SEQUENCE, "messageImprint"))
    algorithm = _children(_expect(imprint[0], SEQUENCE, "hashAlgorithm"))
    if algorithm[0][2] != SHA256_OID:
        raise TimestampError("the token's imprint is not SHA-256")
    gen_time = _expect(tst[4], GENERALIZED_TIME, "genTime").decode("ascii", "replace")
    nonce = None
    for element in tst[5:]:
        if element[0] == INTEGER:
            nonce = int.from_bytes(element[1], "big", signed=True)
            break
    return {"digest": _expect(imprint[1], OCTET_STRING, "hashedMessage"), "nonce": nonce, "gen_time": gen_time}


def _post(url: str, body: bytes) -> bytes:
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (the operator's URL)
            return bytes(response.read(MAX_REPLY_BYTES + 1))
    except OSError as exc:
        raise TimestampError(f"{url}: {exc}") from exc


def timestamp(message: bytes) -> dict[str, Any]:
    """Ask the authority to timestamp `message`; the anchor's `tsa` entry."""
    url = settings.AUDIT_TSA_URL
    digest = hashlib.sha256(message).digest()
    nonce = secrets.randbits(63)
    reply = _post(url, request_for(digest, nonce))
    if len(reply) > MAX_REPLY_BYTES:
        raise TimestampError("the reply is too large")
    tag, content, _ = _read(reply)
    parts = _children(content) if tag == SEQUENCE else []
    if not parts:
        raise TimestampError("the reply is not a TimeStampResp")
    status = int.from_bytes(_expect(_children(_expect(parts[0], SEQUENCE, "PKIStatusInfo"))[0], INTEGER, "status"), "big")
    if status not in (0, 1) or len(parts) < 2:  # granted, granted with modifications
        raise TimestampError(f"the authority refused (PKIStatus {status})")
    token = parts[1][2]
    info = read_token(token)
    if info["digest"] != digest or info["nonce"] != nonce:
        raise TimestampError("the token is not for this request (imprint or nonce differs)")
    return {"url": url, "gen_time": info["gen_time"], "token": base64.b64encode(token).decode()}


def check(entry: dict[str, Any], message: bytes) -> str:
    """Why a stored token does not cover `message` ("" when it does)."""
    try:
        info = read_token(base64.b64decode(entry["token"], validate=True))
    except (KeyError, TypeError, ValueError, IndexError, TimestampError) as exc:
        return f"cannot be read ({exc})"
    if info["digest"] != hashlib.sha256(message).digest():
        return "does not cover this checkpoint: the anchor was edited after it was timestamped"
    return ""
