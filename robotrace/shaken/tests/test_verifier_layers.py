"""Every layer and every failure code of the verifier, on our own test PKI."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from robotrace.shaken.tests.pki import CALL, DROP, IAT, ORIG, URL, ctx
from robotrace.shaken.verifier import parse_tn_auth_list, split_identity_headers


def test_it_verifies_a_good_header_and_records_every_layer(pki):
    v = pki.verifier().verify(pki.header(), ctx())
    assert v.verified and v.sip_code == 200
    assert {name: r.status for name, r in v.layers.items()} == {
        "header": "passed", "passport": "passed", "freshness": "passed", "certificate": "passed",
        "chain": "passed", "signature": "passed", "call_match": "passed",
    }
    assert (v.attest, v.spc, v.orig_tn, v.delta_seconds) == ("A", "TST9", ORIG, 2)


def test_it_answers_428_without_an_identity_header(pki):
    for empty in (None, "", "   ", []):
        v = pki.verifier().verify(empty, ctx())
        assert (v.sip_code, v.failed_layer) == (428, "header")


@pytest.mark.parametrize(
    "params, code",
    [
        (";alg=ES256;ppt=shaken", 436),                                       # no info
        (f";info={URL};alg=ES256;ppt=shaken", 436),                           # info not in <>
        (";info=<https://other.example.net/x.pem>;alg=ES256;ppt=shaken", 436),  # info != x5u
        (f";info=<{URL}>;ppt=shaken", 437),                                   # no alg
        (f";info=<{URL}>;alg=HS256;ppt=shaken", 437),                         # wrong alg
        (f";info=<{URL}>;alg=ES256", 438),                                    # no ppt
        (f";info=<{URL}>;alg=ES256;ppt=div", 438),                            # wrong ppt
    ],
)
def test_it_maps_identity_parameter_faults_to_their_codes(pki, params, code):
    v = pki.verifier().verify(pki.header(params=params), ctx())
    assert not v.verified
    assert (v.sip_code, v.failed_layer) == (code, "header")


@pytest.mark.parametrize(
    "hdr, code",
    [
        ({"alg": "none"}, 437),
        ({"alg": "HS256"}, 437),
        ({"typ": "JWT"}, 437),
        ({"ppt": DROP}, 436),
        ({"ppt": "rcd"}, 438),
    ],
)
def test_it_refuses_passport_headers_other_than_shaken_es256(pki, hdr, code):
    v = pki.verifier().verify(pki.header(hdr=hdr), ctx())
    assert (v.sip_code, v.failed_layer) == (code, "passport")


@pytest.mark.parametrize(
    "edits, code",
    [
        ({"attest": "D"}, 438),
        ({"attest": DROP}, 438),
        ({"orig": DROP}, 403),
        ({"dest": DROP}, 403),
        ({"orig": "12025550143"}, 438),             # a string, not {"tn": ...}
        ({"dest": {"tn": "19195550100"}}, 438),     # dest.tn must be an array
        ({"dest": {"tn": [""]}}, 403),
        ({"orig": {"tn": "a" * 100}}, 438),
        ({"origid": 12}, 438),
    ],
)
def test_it_checks_the_rfc8588_claims(pki, edits, code):
    v = pki.verifier().verify(pki.header(claims=edits), ctx())
    assert (v.sip_code, v.failed_layer) == (code, "passport")


def test_it_only_warns_on_a_non_uuid_origid(pki):
    v = pki.verifier().verify(pki.header(claims={"origid": "trunk-7"}), ctx())
    assert v.verified and any("origid" in w for w in v.warnings)


@pytest.mark.parametrize("iat", [0, -5, "1767225600", 1.5, DROP, IAT - 61, IAT + 63])
def test_it_answers_403_when_iat_is_missing_malformed_or_outside_the_window(pki, iat):
    v = pki.verifier().verify(pki.header(claims={"iat": iat}), ctx())
    assert (v.sip_code, v.failed_layer) == (403, "freshness")


def test_it_judges_freshness_at_the_call_time_not_now(pki):
    # Signed in March 2026 and checked long after: fresh, because the call was then.
    v = pki.verifier().verify(pki.header(), ctx(call_time=CALL))
    assert v.verified and v.delta_seconds == 2
    late = pki.verifier().verify(pki.header(), ctx(call_time=CALL + dt.timedelta(minutes=5)))
    assert late.sip_code == 403 and late.delta_seconds == 302


def test_its_freshness_window_is_configurable(pki):
    tok = pki.header(claims={"iat": IAT - 200})
    assert pki.verifier().verify(tok, ctx()).sip_code == 403
    assert pki.verifier(freshness_seconds=300).verify(tok, ctx()).verified


def test_it_answers_403_for_a_stale_sip_date(pki):
    v = pki.verifier().verify(pki.header(), ctx(date_header="Sat, 13 Nov 2010 23:29:00 GMT"))
    assert (v.sip_code, v.failed_layer) == (403, "freshness")


def test_it_answers_438_when_the_signature_does_not_verify(pki):
    good = pki.header()
    token, _, params = good.partition(";")
    h, c, s = token.split(".")
    tampered_claims = pki.token(claims={"orig": {"tn": "12025550199"}}).split(".")[1]
    v = pki.verifier().verify(f"{h}.{tampered_claims}.{s};{params}", ctx(orig_tn="12025550199"))
    assert (v.sip_code, v.failed_layer, v.signature_valid) == (438, "signature", False)
    other_key = ec.generate_private_key(ec.SECP256R1())
    v2 = pki.verifier().verify(pki.header(key=other_key), ctx())
    assert (v2.sip_code, v2.failed_layer) == (438, "signature")


def test_it_answers_437_for_a_certificate_expired_at_call_time(pki):
    url = "https://certs.test.example/shaken/expired.pem"
    v = pki.verifier().verify(pki.header(hdr={"x5u": url}, url=url), ctx())
    assert (v.sip_code, v.failed_layer) == (437, "certificate")


def test_it_answers_437_for_a_leaf_outside_the_shaken_profile(pki):
    url = "https://certs.test.example/shaken/notn.pem"
    v = pki.verifier().verify(pki.header(hdr={"x5u": url}, url=url), ctx())
    assert (v.sip_code, v.failed_layer) == (437, "certificate")
    assert "TNAuthList" in v.reason
    # With the profile off (third-party test certificates) the same call verifies.
    assert pki.verifier(cert_profile="off").verify(pki.header(hdr={"x5u": url}, url=url), ctx()).verified


def test_it_answers_438_for_a_chain_to_an_untrusted_root(pki):
    url = "https://certs.test.example/shaken/rogue.pem"
    v = pki.verifier().verify(pki.header(hdr={"x5u": url}, url=url), ctx())
    assert (v.sip_code, v.failed_layer) == (438, "chain")
    assert v.layers["signature"].status == "passed"  # the layers are kept apart


@pytest.mark.parametrize("name", ["garbage", "empty", "404", "slow", "unknown"])
def test_it_answers_436_when_the_certificate_cannot_be_obtained(pki, name):
    url = f"https://certs.test.example/shaken/{name}.pem"
    v = pki.verifier().verify(pki.header(hdr={"x5u": url}, url=url), ctx())
    assert (v.sip_code, v.failed_layer) == (436, "certificate")


@pytest.mark.parametrize("url", ["http://certs.test.example/a.pem", "https://127.0.0.1/a.pem", "https://certs.test.example:8080/a.pem", "https://u:p@certs.test.example/a.pem", "a" * 5000])
def test_it_refuses_x5u_urls_against_the_rules_before_fetching(pki, url):
    v = pki.verifier().verify(pki.header(hdr={"x5u": url}, url=url), ctx())
    assert (v.sip_code, v.failed_layer) == (436, "header")


def test_it_answers_438_when_the_numbers_do_not_match_the_call(pki):
    v = pki.verifier().verify(pki.header(), ctx(orig_tn="13125550000"))
    assert (v.sip_code, v.failed_layer) == (438, "call_match")
    v = pki.verifier().verify(pki.header(), ctx(dest_tn="13125550000"))
    assert (v.sip_code, v.failed_layer) == (438, "call_match")


def test_it_answers_400_for_a_malformed_calling_number(pki):
    v = pki.verifier().verify(pki.header(), ctx(orig_tn="++4"))
    assert (v.sip_code, v.failed_layer) == (400, "call_match")


def test_it_matches_national_and_e164_forms_with_a_warning(pki):
    v = pki.verifier().verify(pki.header(), ctx(orig_tn="+1 (202) 555-0143", dest_tn="9195550100"))
    assert v.verified
    assert v.layers["call_match"].status == "warning" and any("last 10" in w for w in v.warnings)


def test_it_checks_revocation_when_a_crl_is_configured(pki):
    leaf = pki.extra["leaf"]
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    revoked = x509.RevokedCertificateBuilder().serial_number(leaf.serial_number).revocation_date(now).build()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.ca.subject).last_update(now).next_update(now + dt.timedelta(days=30))
           .add_revoked_certificate(revoked).sign(pki.ca_key, hashes.SHA256()))
    v = pki.verifier(crls=[crl]).verify(pki.header(), ctx())
    assert (v.sip_code, v.failure) == (438, "chain.revoked")
    # A call made before the revocation still verifies.
    early = pki.token(claims={"iat": int(dt.datetime(2026, 1, 20, tzinfo=dt.UTC).timestamp())})
    v2 = pki.verifier(crls=[crl]).verify(early + f";info=<{URL}>;alg=ES256;ppt=shaken", ctx(call_time=dt.datetime(2026, 1, 20, 0, 0, 1, tzinfo=dt.UTC)))
    assert v2.verified


def test_it_keeps_several_identity_headers_and_picks_the_shaken_one(pki):
    shaken = pki.header()
    div = pki.token(hdr={"ppt": "div"}) + ";info=<https://certs.test.example/div.pem>;alg=ES256;ppt=div"
    assert split_identity_headers(f"{div}, {shaken}") == [div, shaken]
    v = pki.verifier().verify([div, shaken], ctx())
    assert v.verified and [(h["ppt"], h["info"], h["verified"]) for h in v.other_headers] == [("div", "https://certs.test.example/div.pem", False)]
    assert any("div header not verified" in w for w in v.warnings)


def test_a_verified_diversion_explains_a_different_called_number(pki):
    from robotrace.shaken.tests.pki import DEST

    new_target = "13125550000"
    div_claims = {"attest": DROP, "origid": DROP, "dest": {"tn": [new_target]}, "div": {"tn": DEST}}
    div = pki.token(hdr={"ppt": "div"}, claims=div_claims) + f";info=<{URL}>;alg=ES256;ppt=div"
    v = pki.verifier().verify([pki.header(), div], ctx(dest_tn=new_target))
    assert v.verified and v.other_headers[0]["verified"] is True
    assert any("diversion" in w for w in v.warnings)
    # Without the div header the same call is a dest mismatch.
    assert pki.verifier().verify(pki.header(), ctx(dest_tn=new_target)).sip_code == 438
    # A div header whose div.tn is not the SHAKEN dest explains nothing.
    bad = pki.token(hdr={"ppt": "div"}, claims={**div_claims, "div": {"tn": "19999999999"}}) + f";info=<{URL}>;alg=ES256;ppt=div"
    assert pki.verifier().verify([pki.header(), bad], ctx(dest_tn=new_target)).sip_code == 438


def test_it_decodes_tnauthlist_entries():
    assert parse_tn_auth_list(bytes.fromhex("3008a00616043137374b")) == [("spc", "177K")]
    with pytest.raises(ValueError):
        parse_tn_auth_list(b"\x30\x05\xa0")


def test_it_ignores_unknown_parameters_unless_told_to_follow_the_french_plan(pki):
    header = pki.header() + ";toto=titi"
    v = pki.verifier().verify(header, ctx())
    assert v.verified and v.layers["header"].status == "warning"
    strict = pki.verifier(reject_unknown_params=True).verify(header, ctx())
    assert (strict.sip_code, strict.failed_layer) == (438, "header")


def test_its_path_building_honours_path_length_and_critical_extensions():
    from cryptography.x509.oid import ObjectIdentifier

    from robotrace.shaken.signing import _dn, _issue
    from robotrace.shaken.verifier import build_chain

    nb, na = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    k = [ec.generate_private_key(ec.SECP256R1()) for _ in range(4)]
    root_n, ca1_n, ca2_n = _dn("SHAKEN R", "R"), _dn("SHAKEN CA1", "R"), _dn("SHAKEN CA2", "R")
    root = _issue("root", root_n, k[0], root_n, k[0], nb, na)
    ca1 = _issue("ca", ca1_n, k[1], root_n, k[0], nb, na)  # pathLen 0: may not issue CAs
    ca2 = _issue("ca", ca2_n, k[2], ca1_n, k[1], nb, na)
    leaf = _issue("leaf", _dn("SHAKEN X001", "X"), k[3], ca2_n, k[2], nb, na, "X001")
    assert "allows 0" in build_chain(leaf, [ca2, ca1], [root], strict=True).error
    odd = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(ca1_n).public_key(k[3].public_key())
           .serial_number(12345678901234567890).not_valid_before(nb).not_valid_after(na)
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"), critical=True)
           .sign(k[1], hashes.SHA256()))
    assert "unknown critical" in build_chain(odd, [ca1], [root], strict=True).error
