from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from robotrace.conftest import bearer
from robotrace.ingest.models import CallReport
from robotrace.ingest.tests.conftest import good, nd, post

AUDIO = b"RIFF" + b"\x00" * 2000


def test_it_stores_an_uploaded_recording_with_its_sha256(world: Any, reporter_key: str, api_key: Any, as_user: Any) -> None:
    post(reporter_key, nd(good(1)))
    report = CallReport.objects.for_org(world.reporter_a).get()
    r = Client().post(f"/api/v1/reports/{report.id}/recording", {"file": SimpleUploadedFile("call.wav", AUDIO, content_type="audio/wav")}, **bearer(reporter_key))
    assert r.status_code == 201, r.content
    sha = hashlib.sha256(AUDIO).hexdigest()
    assert r.json()["recording_sha256"] == sha
    report.refresh_from_db()
    assert report.recording_sha256 == sha
    download = Client().get(f"/api/v1/reports/{report.id}/recording", **bearer(reporter_key))
    assert b"".join(download.streaming_content) == AUDIO  # type: ignore[attr-defined]  # a FileResponse
    other = api_key(world.reporter_b, ["ingest"])
    assert Client().get(f"/api/v1/reports/{report.id}/recording", **bearer(other)).status_code == 404
    assert Client().post(f"/api/v1/reports/{report.id}/recording", {"file": SimpleUploadedFile("c.wav", AUDIO, content_type="audio/wav")}, **bearer(other)).status_code == 404
    assert as_user(world.carol).get(f"/api/v1/reports/{report.id}/recording").status_code == 200


def test_it_refuses_a_recording_that_is_not_audio(world: Any, reporter_key: str) -> None:
    post(reporter_key, nd(good(1)))
    report = CallReport.objects.for_org(world.reporter_a).get()
    r = Client().post(f"/api/v1/reports/{report.id}/recording", {"file": SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")}, **bearer(reporter_key))
    assert r.status_code == 415
