from __future__ import annotations

from typing import Any

from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.tests.conftest import good, nd, post


def reports(world: Any) -> list[CallReport]:
    return list(CallReport.objects.for_org(world.reporter_a).order_by("source_report_id"))


def test_it_stores_ndjson_and_answers_202_with_counts(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(good(1), good(2, calling_number="919-555-0123")))
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 0)
    assert body["upload_id"] == Upload.objects.for_org(world.reporter_a).get().id
    first, second = reports(world)
    assert first.calling_number_e164 == "+17042861234"
    assert first.called_number == "+19193324567"
    assert first.called_state == "NC"
    assert first.callback_numbers == ["+18333041447"]
    assert first.is_calling_number_invalid is False
    assert second.is_calling_number_invalid is True  # 555-01XX is fiction
    assert first.upload_id == body["upload_id"]
