"""`robotrace shaken verify` and `robotrace shaken conformance`."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError

from robotrace.shaken.signing import sign_passport
from robotrace.shaken.tests.pki import CALL, DEST, ORIG, URL

AT = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def test_verify_prints_the_verdict_as_json(shaken_var, capsys):
    header = sign_passport("KV01", ORIG, DEST, "A", iat=int(AT.timestamp()))
    call_command("shaken", "verify", "--identity", header, "--call-time", AT.isoformat(), "--orig", ORIG, "--dest", DEST)
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] is True and out["sip_code"] == 200 and out["spc"] == "KV01"
    call_command("shaken", "verify", "--identity", header, "--call-time", str(int(AT.timestamp()) + 3600))
    assert json.loads(capsys.readouterr().out)["sip_code"] == 403


def test_verify_uses_the_trust_anchors_and_store_it_is_given(shaken_var, pki, tmp_path, capsys):
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    store = tmp_path / "store"
    store.mkdir()
    from robotrace.shaken.x5u import LocalCertStore

    LocalCertStore(store).add(URL, pki.store.fetch(URL).body, persist=True, name="tst9.pem")
    call_command("shaken", "verify", "--identity", pki.header(), "--call-time", CALL.isoformat(), "--orig", ORIG,
                 "--trust-anchor", str(root), "--cert-store", str(store))
    assert json.loads(capsys.readouterr().out)["verified"] is True
    # The configured anchors (the simulated root only) do not trust this PKI.
    call_command("shaken", "verify", "--identity", pki.header(), "--call-time", CALL.isoformat(), "--cert-store", str(store))
    out = json.loads(capsys.readouterr().out)
    assert out["failed_layer"] == "chain"


def test_verify_refuses_bad_arguments(shaken_var, tmp_path):
    with pytest.raises(CommandError, match="call-time"):
        call_command("shaken", "verify", "--identity", "x", "--call-time", "yesterday")
    empty = tmp_path / "none.pem"
    empty.write_text("nothing")
    with pytest.raises(CommandError, match="trust-anchor"):
        call_command("shaken", "verify", "--identity", "x", "--call-time", "0", "--trust-anchor", str(empty))


def _own_folder(tmp_path, pki):
    """A small vector folder in the shared layout, made with our own PKI."""
    ident = tmp_path / "identity"
    (ident / "certs").mkdir(parents=True)
    (ident / "certs" / "root.pem").write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    (ident / "certs" / "chain.pem").write_bytes(pki.store.fetch(URL).body)
    fields = ["case_id", "identity_header", "x5u_cert_file", "trust_anchor_file", "cert_profile", "call_time_utc", "orig_tn", "dest_tn",
              "from_user", "date_header", "expected_sip_response", "accept_also", "expected_verdict", "layer", "signature_valid"]
    base = {"x5u_cert_file": "certs/chain.pem", "trust_anchor_file": "certs/root.pem", "cert_profile": "strict",
            "call_time_utc": CALL.isoformat().replace("+00:00", "Z"), "orig_tn": ORIG, "dest_tn": DEST, "from_user": "", "date_header": "",
            "accept_also": "", "signature_valid": "yes"}
    rows = [
        {**base, "case_id": "own-ok", "identity_header": pki.header(), "expected_sip_response": "200", "expected_verdict": "pass", "layer": "none"},
        {**base, "case_id": "own-stale", "identity_header": pki.header(claims={"iat": 1}), "expected_sip_response": "403", "expected_verdict": "fail", "layer": "freshness"},
        {**base, "case_id": "own-404", "identity_header": pki.header(), "x5u_cert_file": "!404", "expected_sip_response": "436", "expected_verdict": "fail",
         "layer": "certificate", "signature_valid": "n/a"},
    ]
    with (ident / "cases.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return tmp_path


def test_conformance_scores_a_folder_of_our_own_vectors(db, tmp_path, pki, capsys):
    call_command("shaken", "conformance", str(_own_folder(tmp_path, pki)))
    out = capsys.readouterr().out
    assert "own-ok" in out and "verdict accuracy            3/3 (100.0 %)" in out and "SIP code strict             3/3" in out


def test_conformance_refuses_a_folder_without_vectors(db, tmp_path):
    with pytest.raises(CommandError, match="neither"):
        call_command("shaken", "conformance", str(tmp_path))


def test_conformance_on_the_shared_vectors_meets_the_target(db, shared_vectors, capsys):
    call_command("shaken", "conformance", str(shared_vectors), "--json")
    out = json.loads(capsys.readouterr().out)
    ident = out["identity"]
    assert ident["verdict_non_man"]["rate"] == 100.0
    assert ident["code_lenient"]["rate"] == 100.0
    assert ident["signature"]["rate"] == 100.0
    assert out["certs"]["lookup"]["rate"] == 100.0
