"""x5u URL rules and the offline certificate store (no network in tests)."""

from __future__ import annotations

import json

import pytest

from robotrace.shaken import x5u
from robotrace.shaken.x5u import HttpFetcher, LocalCertStore, check_x5u_url, is_public_address


@pytest.mark.parametrize(
    "url",
    ["https://certs.example.net/shaken/sp.pem", "https://certs.example.net:443/a.pem", "https://certs.example.net:8443/a.pem", "https://8.8.8.8/a.pem"],
)
def test_it_accepts_urls_the_rules_allow(url):
    assert check_x5u_url(url) == ""


@pytest.mark.parametrize(
    "url, why",
    [
        ("", "empty"),
        ("http://certs.example.net/a.pem", "https"),
        ("ftp://certs.example.net/a.pem", "https"),
        ("https://certs.example.net:8080/a.pem", "port"),
        ("https://user:pw@certs.example.net/a.pem", "userinfo"),
        ("https://user@certs.example.net/a.pem", "userinfo"),
        ("https://certs.example.net/a.pem?x=1", "query"),
        ("https://certs.example.net/a.pem#frag", "fragment"),
        ("https://127.0.0.1/a.pem", "not public"),
        ("https://10.1.2.3/a.pem", "not public"),
        ("https://169.254.169.254/latest/meta-data", "not public"),
        ("https://[::1]/a.pem", "not public"),
        ("https://localhost/a.pem", "public name"),
        ("https://intranet/a.pem", "public name"),
        ("https://certs.example.net/a b.pem", "spaces"),
        ("https://" + "a" * 3000 + ".example/x.pem", "longer"),
        ("https://certs.example.net:99999/a.pem", "parsed"),
    ],
)
def test_it_refuses_urls_against_the_rules(url, why):
    assert why in check_x5u_url(url)


def test_it_knows_private_addresses_from_public_ones():
    assert is_public_address("93.184.216.34")
    for addr in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "::1", "fe80::1%eth0", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1"):
        assert not is_public_address(addr), addr


def test_it_refuses_to_fetch_a_name_that_resolves_to_a_private_address(monkeypatch):
    # DNS answers are attacker-controlled too: the resolved address is checked before connecting.
    monkeypatch.setattr(x5u.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.7", 443))])
    result = HttpFetcher().fetch("https://evil.example.net/a.pem")
    assert "private" in result.error and not result.certs


def test_it_does_not_fetch_urls_against_the_rules():
    result = HttpFetcher().fetch("http://certs.example.net/a.pem")
    assert "https" in result.error


def test_its_store_maps_urls_to_files_and_persists(tmp_path, pki):
    from cryptography.hazmat.primitives import serialization

    pem = pki.root.public_bytes(serialization.Encoding.PEM)
    store = LocalCertStore(tmp_path)
    store.add("https://certs.example.net/a.pem", pem, persist=True, name="a.pem")
    again = LocalCertStore(tmp_path)
    got = again.fetch("https://certs.example.net/a.pem")
    assert not got.error and got.certs[0] == pki.root
    assert json.loads((tmp_path / "index.json").read_text()) == {"https://certs.example.net/a.pem": "a.pem"}
    assert "not in the local" in again.fetch("https://certs.example.net/b.pem").error


def test_its_store_refuses_entries_outside_its_folder(tmp_path):
    (tmp_path / "index.json").write_text(json.dumps({"https://x.example/a.pem": "../../etc/passwd", "https://x.example/b.pem": "!404"}))
    store = LocalCertStore(tmp_path)
    assert "outside" in store.fetch("https://x.example/a.pem").error
    assert store.fetch("https://x.example/b.pem").error == "HTTP 404"


def test_its_store_caps_the_body_size(tmp_path):
    store = LocalCertStore(tmp_path)
    store.add("https://x.example/big.pem", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 200_000)
    assert "larger" in store.fetch("https://x.example/big.pem").error


def test_the_verifier_caches_by_url(pki):
    from robotrace.shaken.tests.pki import ctx

    calls: list[str] = []

    class Counting:
        def fetch(self, url: str):
            calls.append(url)
            return pki.store.fetch(url)

    verifier = pki.verifier().__class__(trust_anchors=[pki.root], source=Counting())
    for _ in range(3):
        assert verifier.verify(pki.header(), ctx()).verified
    assert len(calls) == 1


def test_the_verifier_checks_a_chain_once_whatever_url_serves_it(pki):
    from robotrace.shaken.tests.pki import URL, ctx

    body = pki.store.fetch(URL).body
    store = LocalCertStore()
    store.add(URL, body)
    store.add("https://mirror.test.example/TST9.pem", body)
    verifier = pki.verifier().__class__(trust_anchors=[pki.root], source=store)
    assert verifier.verify(pki.header(), ctx()).verified
    mirror = "https://mirror.test.example/TST9.pem"
    assert verifier.verify(pki.header(hdr={"x5u": mirror}, url=mirror), ctx()).verified
    assert verifier._chains[URL] is verifier._chains[mirror]


def _fetcher(monkeypatch, handler, **kw):
    import httpx

    monkeypatch.setattr(x5u.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))])
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return HttpFetcher(transport=httpx.MockTransport(record), **kw), seen


def test_the_fetcher_connects_to_the_checked_address_and_reads_a_pem_chain(monkeypatch, pki):
    import httpx

    body = pki.store.fetch("https://certs.test.example/shaken/TST9.pem").body
    fetcher, seen = _fetcher(monkeypatch, lambda r: httpx.Response(200, content=body, headers={"content-type": "application/pem-certificate-chain"}))
    got = fetcher.fetch("https://certs.example.net/shaken/TST9.pem")
    assert not got.error and len(got.certs) == 2 and not got.notes
    assert seen[0].url.host == "93.184.216.34" and seen[0].headers["host"] == "certs.example.net"
    fetcher.fetch("https://certs.example.net/shaken/TST9.pem")
    assert len(seen) == 1  # cached


def test_the_fetcher_follows_no_redirect(monkeypatch):
    import httpx

    fetcher, seen = _fetcher(monkeypatch, lambda r: httpx.Response(302, headers={"location": "https://10.0.0.1/x.pem"}))
    assert fetcher.fetch("https://certs.example.net/a.pem").error == "HTTP 302"
    assert len(seen) == 1


def test_the_fetcher_caps_the_body_and_notes_a_wrong_content_type(monkeypatch, pki):
    import httpx

    fetcher, _ = _fetcher(monkeypatch, lambda r: httpx.Response(200, content=b"A" * 100_000))
    assert "larger" in fetcher.fetch("https://certs.example.net/big.pem").error
    body = pki.store.fetch("https://certs.test.example/shaken/TST9.pem").body
    fetcher, _ = _fetcher(monkeypatch, lambda r: httpx.Response(200, content=body, headers={"content-type": "text/plain"}))
    got = fetcher.fetch("https://certs.example.net/a.pem")
    assert got.certs and "Content-Type" in got.notes[0]


def test_the_fetcher_reports_a_timeout(monkeypatch):
    import httpx

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    fetcher, _ = _fetcher(monkeypatch, slow)
    assert fetcher.fetch("https://certs.example.net/a.pem").error == "timed out"


def test_the_verifier_retries_a_failed_fetch_after_a_while(pki):
    from robotrace.shaken.tests.pki import URL, ctx
    from robotrace.shaken.x5u import FetchResult

    answers = [FetchResult(error="timed out"), pki.store.fetch(URL)]

    class Flaky:
        def fetch(self, url: str) -> FetchResult:
            return answers.pop(0)

    verifier = pki.verifier().__class__(trust_anchors=[pki.root], source=Flaky())
    assert verifier.verify(pki.header(), ctx()).sip_code == 436
    assert verifier.verify(pki.header(), ctx()).sip_code == 436  # remembered for a while
    verifier.failure_ttl = 0.0
    assert verifier.verify(pki.header(), ctx()).verified
