"""Hostile and broken input yields a verdict with a reason, never an exception."""

from __future__ import annotations

import base64

import pytest

from robotrace.shaken.tests.pki import URL, ctx

B64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731

HDR_BAD_X5U = b'{"alg":"ES256","x5u":12}'
HDR_OK = b'{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://certs.test.example/shaken/TST9.pem"}'
ODD_CLAIMS = b'{"iat":1e400,"orig":{"tn":[]},"dest":[],"attest":"A"}'

GARBAGE = [
    "a.b.c",
    "....",
    ".",
    "not a token at all",
    "eyJ!!!.eyJ.abc;info=<x>",
    "\x00\x01\x02;info=<\x00>",
    "é" * 300,
    "a" * 200_000,
    f"{B64(b'[1,2]')}.{B64(b'{}')}.{B64(bytes(64))};info=<{URL}>;alg=ES256;ppt=shaken",
    f"{B64(b'{}')}.{B64(b'null')}.{B64(bytes(64))};info=<{URL}>;alg=ES256;ppt=shaken",
    f"{B64(b'{')}.{B64(b'{}')}.{B64(bytes(64))}",
    f"{B64(bytes([0xff, 0xfe]))}.{B64(b'{}')}.{B64(bytes(64))}",
    B64(HDR_BAD_X5U) + "." + B64(b"{}") + "." + B64(bytes(64)) + f";info=<{URL}>;alg=ES256;ppt=shaken",
    B64(HDR_OK) + "." + B64(ODD_CLAIMS) + "." + B64(bytes(64)) + f";info=<{URL}>;alg=ES256;ppt=shaken",
    ";;;;;;;;",
    "<<<<>>>>;info=<<<>>",
    "token;info=<https://[::1]:443/x.pem>;alg=ES256;ppt=shaken",
    ",,,,",
]


@pytest.mark.parametrize("header", GARBAGE)
def test_it_never_raises_on_garbage_headers(pki, header):
    v = pki.verifier().verify(header, ctx())
    assert not v.verified
    assert v.reason and v.sip_code in (400, 403, 428, 436, 437, 438)
    v.to_dict()  # serialisable


def test_it_never_raises_on_wrong_types(pki):
    for weird in ([None, 12, b"x"], (x for x in ["a.b.c"])):
        v = pki.verifier().verify(weird, ctx())
        assert not v.verified


def test_it_reports_a_truncated_token_as_a_passport_defect(pki):
    good = pki.header()
    for cut in (10, len(good) // 2, good.index(";") - 3):
        v = pki.verifier().verify(good[:cut], ctx())
        assert not v.verified and v.failed_layer in ("passport", "header", "signature")


def test_it_treats_a_certificate_that_is_not_a_certificate_as_436(pki):
    from robotrace.shaken.x5u import LocalCertStore

    store = LocalCertStore()
    store.add(URL, b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    v = pki.verifier().__class__(trust_anchors=[pki.root], source=store).verify(pki.header(), ctx())
    assert (v.sip_code, v.failed_layer) == (436, "certificate")
