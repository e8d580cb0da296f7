"""Oversized bodies are refused from Content-Length, before anything reads them (#20 finding 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from robotrace.conftest import bearer


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"a" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_anonymous_large_multipart_post_is_refused_before_it_is_read(db: Any, tmp_path: Path, monkeypatch: Any) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(settings, "FILE_UPLOAD_TEMP_DIR", str(spool))
    c = Client(enforce_csrf_checks=True)
    c.cookies["csrftoken"] = "a" * 32
    body, ctype = _multipart(settings.REQUEST_MAX_BYTES_ANONYMOUS + 1)
    r = c.post("/accounts/login/", data=body, content_type=ctype, HTTP_X_CSRFTOKEN="a" * 32)
    assert r.status_code == 413
    assert "Sign in before sending" in r.content.decode()
    assert r["Connection"] == "close"
    assert list(spool.iterdir()) == []


def test_a_small_anonymous_post_goes_through(db: Any) -> None:
    r = Client().post("/accounts/login/", {"login": "nobody@example.test", "password": "x"})
    assert r.status_code == 200


def test_a_signed_in_person_may_send_up_to_the_signed_in_cap(world: Any, as_user: Any) -> None:
    body, ctype = _multipart(settings.REQUEST_MAX_BYTES_ANONYMOUS + 1)
    r = as_user(world.alice).post("/legal/new/", data=body, content_type=ctype)
    assert r.status_code != 413


def test_a_signed_in_person_is_refused_over_the_signed_in_cap(world: Any, as_user: Any, settings: Any) -> None:
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    body, ctype = _multipart(1024 * 1024 + 1)
    r = as_user(world.alice).post("/legal/new/", data=body, content_type=ctype)
    assert r.status_code == 413
    assert "limited to 1,048,576 bytes" in r.content.decode()


def test_intake_keeps_its_own_larger_cap(world: Any, api_key: Any, settings: Any) -> None:
    from robotrace.ingest.tests.conftest import good, nd

    settings.REQUEST_MAX_BYTES = 1024 * 1024
    body = nd(*[good(i, transcript="x" * 900) for i in range(1300)])
    assert len(body) > 1024 * 1024
    r = Client().post("/api/v1/reports", data=body, content_type="application/x-ndjson", **bearer(api_key(world.reporter_a, ["ingest"])))
    assert r.status_code == 202, r.content


def test_a_bad_content_length_is_refused(db: Any) -> None:
    r = Client().post("/accounts/login/", data=b"x", content_type="text/plain", CONTENT_LENGTH="lots")
    assert r.status_code == 400
