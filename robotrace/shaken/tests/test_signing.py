"""The simulated PKI signs calls that verify offline, and makes bad signers on request."""

from __future__ import annotations

import datetime as dt

import pytest

from robotrace.shaken import conf, runtime
from robotrace.shaken.signing import sign_passport, x5u_for
from robotrace.shaken.verifier import CallContext, decode_jws, parse_identity_header
from robotrace.shaken.x5u import LocalCertStore

AT = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def _verify(header: str, orig: str = "12025550143"):
    return runtime.system_verifier().verify(header, CallContext(call_time=AT, orig_tn=orig, dest_tn="19195550100"))


def test_it_signs_a_shaken_passport_that_verifies_offline(shaken_var):
    header = sign_passport("KV01", "+1 202 555 0143", "+19195550100", "A", "abc", int(AT.timestamp()))
    jws = decode_jws(parse_identity_header(header).token)
    assert jws.header == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u_for("KV01")}
    assert jws.claims == {"attest": "A", "dest": {"tn": ["19195550100"]}, "iat": int(AT.timestamp()), "orig": {"tn": "12025550143"}, "origid": "abc"}
    v = _verify(header)
    assert v.verified and v.spc == "KV01"
    # The root is a registered trust anchor and the x5u lives in the local store.
    assert (conf.anchors_dir() / "simulated-root.pem").exists()
    assert LocalCertStore(conf.cert_store_dir()).knows(x5u_for("KV01"))


@pytest.mark.parametrize(
    "fault, code, layer",
    [("bad_signature", 438, "signature"), ("expired_certificate", 437, "certificate"), ("untrusted", 438, "chain"), ("stale", 403, "freshness")],
)
def test_it_makes_bad_signers_on_request(shaken_var, fault, code, layer):
    v = _verify(sign_passport("NG02", "12025550143", "19195550100", "B", iat=int(AT.timestamp()), fault=fault))
    assert (v.sip_code, v.failed_layer) == (code, layer)


def test_it_reuses_the_same_pki_and_refuses_bad_arguments(shaken_var):
    first = sign_passport("KV01", "1", "2", "C")
    second = sign_passport("KV01", "1", "2", "C")
    assert first.split(";")[1] == second.split(";")[1]
    for bad in ({"spc": "bad spc!"}, {"attest": "D"}, {"fault": "nope"}):
        kwargs = {"spc": "KV01", "orig": "1", "dest": "2", "attest": "A", **bad}
        with pytest.raises(ValueError):
            sign_passport(**kwargs)
