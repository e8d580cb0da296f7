"""RFC 3161 tokens on anchors, against a local timestamp authority: OpenSSL's own `ts -reply`
behind a small HTTP server, so the tokens are real ones that `openssl ts -verify` accepts."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from robotrace.audit import anchors, tsa
from robotrace.audit import services as audit
from robotrace.audit.queries import verify_chain

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

TSA_CONFIG = """[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = {dir}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@pytest.fixture
def local_tsa(tmp_path, settings):
    d = tmp_path / "tsa"
    d.mkdir()
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CONFIG.format(dir=d))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", d / "key.pem", "-out", d / "cert.pem", "-days", "2", "-subj", "/CN=Test TSA",
         "-addext", "extendedKeyUsage=critical,timeStamping", "-addext", "basicConstraints=critical,CA:false",
         "-addext", "keyUsage=critical,digitalSignature"],
        check=True, capture_output=True,
    )  # fmt: skip
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (d / "q.tsq").write_bytes(query)
                subprocess.run(["openssl", "ts", "-reply", "-config", d / "tsa.cnf", "-queryfile", d / "q.tsq",
                                "-inkey", d / "key.pem", "-signer", d / "cert.pem", "-out", d / "r.tsr"],
                               check=True, capture_output=True)  # fmt: skip
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.AUDIT_TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    yield d
    server.shutdown()
    server.server_close()


def _anchor_file(settings):
    [path] = list(settings.AUDIT_ANCHOR_DIR.rglob("*.json"))
    return path


def test_an_anchor_carries_a_token_that_openssl_verifies(db, settings, local_tsa):
    audit.record(action="test.x", actor_label="system")
    doc = anchors.write_anchor()
    assert doc["tsa"]["url"] == settings.AUDIT_TSA_URL and doc["tsa"]["gen_time"].endswith("Z")
    assert verify_chain() == []
    # The token really is the authority's signature over this checkpoint.
    (local_tsa / "checkpoint").write_bytes(anchors.signed_bytes(doc))
    (local_tsa / "token.der").write_bytes(base64.b64decode(doc["tsa"]["token"]))
    proc = subprocess.run(["openssl", "ts", "-verify", "-data", local_tsa / "checkpoint", "-in", local_tsa / "token.der",
                           "-token_in", "-CAfile", local_tsa / "cert.pem"], capture_output=True, text=True)  # fmt: skip
    assert "Verification: OK" in proc.stdout, proc.stderr


def test_a_token_moved_to_another_anchor_is_reported(db, settings, local_tsa):
    audit.record(action="test.x", actor_label="system")
    first = anchors.write_anchor()
    audit.record(action="test.y", actor_label="system")
    anchors.write_anchor()
    newest = sorted(settings.AUDIT_ANCHOR_DIR.rglob("*.json"))[-1]
    doc = json.loads(newest.read_text())
    doc["tsa"] = first["tsa"]
    newest.chmod(0o600)
    newest.write_text(json.dumps(doc))
    reasons = " | ".join(p.reason for p in verify_chain())
    assert "its timestamp token does not cover this checkpoint" in reasons


def test_an_unreachable_authority_still_leaves_a_signed_anchor(db, settings):
    settings.AUDIT_TSA_URL = "http://127.0.0.1:9/tsa"  # discard port: nothing listens
    audit.record(action="test.x", actor_label="system")
    doc = anchors.write_anchor()
    assert "tsa" not in doc and doc["mac"]
    assert verify_chain() == []


def test_a_refusal_is_an_error(db, settings, monkeypatch):
    settings.AUDIT_TSA_URL = "http://tsa.invalid/"
    rejection = tsa._tlv(tsa.SEQUENCE, tsa._tlv(tsa.SEQUENCE, tsa._integer(2)))
    monkeypatch.setattr(tsa, "_post", lambda url, body: rejection)
    with pytest.raises(tsa.TimestampError, match="refused"):
        tsa.timestamp(b"checkpoint")
