from __future__ import annotations

import gzip
from typing import Any

import pytest

from robotrace.ingest import conf
from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.tests.conftest import good, nd, post


def stored(world: Any) -> int:
    return CallReport.objects.for_org(world.reporter_a).count()


def only_reject(r: Any) -> dict[str, Any]:
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["rejected"] == 1, body
    return body["rejects"][0]


def test_it_rejects_a_malformed_json_line_and_keeps_the_others(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(good(1), '{"source_report_id": "r-2", ', good(3)))
    reject = only_reject(r)
    assert reject["line"] == 2
    assert "malformed JSON" in reject["reason"]
    assert r.json()["accepted"] == 2
    assert stored(world) == 2


def test_it_names_an_unknown_field(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, colour="red"))))
    assert reject == {"line": 1, "field": "colour", "reason": "Object contains unknown field `colour`"}


def test_it_names_a_missing_required_field(world: Any, reporter_key: str) -> None:
    row = good(1)
    del row["source_report_id"]
    reject = only_reject(post(reporter_key, nd(row)))
    assert reject["field"] == "source_report_id"
    assert "missing required field" in reject["reason"]


def test_it_rejects_an_impossible_date(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, call_started_at="2026-02-30T10:00:00Z"))))
    assert reject["field"] == "call_started_at"
    assert "not a real date" in reject["reason"]


def test_it_rejects_a_future_call_time(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, call_started_at="2099-01-01T10:00:00Z"))))
    assert reject == {"line": 1, "field": "call_started_at", "reason": "call time is in the future"}


def test_it_rejects_an_invalid_called_number(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, called_number="911-555-1234"))))
    assert reject["field"] == "called_number"
    assert "N11" in reject["reason"]


def test_it_rejects_a_wrong_type_naming_the_field(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, duration_seconds="long"))))
    assert reject["field"] == "duration_seconds"


def test_it_rejects_a_naive_time_without_a_zone(world: Any, reporter_key: str) -> None:
    reject = only_reject(post(reporter_key, nd(good(1, call_started_at="2026-11-20T14:05:00"))))
    assert reject["field"] == "call_started_at"
    assert "X-Timezone" in reject["reason"]


def test_it_accepts_a_naive_time_when_the_upload_names_its_zone(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(good(1, call_started_at="2026-11-20T14:05:00")), HTTP_X_TIMEZONE="America/Chicago")
    assert r.json()["accepted"] == 1
    report = CallReport.objects.for_org(world.reporter_a).get()
    assert report.call_started_at.isoformat() == "2026-11-20T20:05:00+00:00"


def test_it_accepts_the_zone_as_a_query_parameter(world: Any, reporter_key: str) -> None:
    from django.test import Client

    from robotrace.conftest import bearer

    body = nd(good(1, call_started_at="2026-11-20T14:05:00"))
    r = Client().post("/api/v1/reports?timezone=America/Denver", data=body, content_type="application/x-ndjson", **bearer(reporter_key))
    assert r.json()["accepted"] == 1


def test_it_refuses_an_unknown_zone(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(good(1)), HTTP_X_TIMEZONE="Mars/Olympus")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/problem+json"


def test_it_refuses_a_wrong_content_type_with_415_and_stores_nothing(world: Any, reporter_key: str) -> None:
    r = post(reporter_key, nd(good(1)), content_type="application/xml")
    assert r.status_code == 415
    assert r["Content-Type"] == "application/problem+json"
    assert stored(world) == 0
    assert Upload.objects.for_org(world.reporter_a).count() == 0


def test_it_refuses_bad_gzip_with_400_and_stores_nothing(world: Any, reporter_key: str) -> None:
    from django.test import Client

    from robotrace.conftest import bearer

    r = Client().post("/api/v1/reports", data=b"this is not gzip at all", content_type="application/x-ndjson",
                      HTTP_CONTENT_ENCODING="gzip", **bearer(reporter_key))  # fmt: skip
    assert r.status_code == 400
    assert r.json()["title"] == "Unreadable gzip"
    assert stored(world) == 0
    assert Upload.objects.for_org(world.reporter_a).count() == 0


def test_it_refuses_truncated_gzip_and_stores_even_the_lines_before_the_cut(world: Any, reporter_key: str) -> None:
    from django.test import Client

    from robotrace.conftest import bearer

    whole = gzip.compress(nd(*(good(i) for i in range(200))))
    r = Client().post("/api/v1/reports", data=whole[: len(whole) - 12], content_type="application/x-ndjson",
                      HTTP_CONTENT_ENCODING="gzip", **bearer(reporter_key))  # fmt: skip
    assert r.status_code == 400
    assert stored(world) == 0


def test_it_refuses_an_upload_over_the_cap_with_413(world: Any, reporter_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "MAX_UPLOAD_BYTES", 2048)
    r = post(reporter_key, nd(*(good(i) for i in range(50))))
    assert r.status_code == 413
    assert r["Content-Type"] == "application/problem+json"
    assert stored(world) == 0


def test_it_counts_the_cap_after_gunzip(world: Any, reporter_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "MAX_UPLOAD_BYTES", 4096)
    body = nd(*(good(i) for i in range(100)))  # compresses far below the cap
    r = post(reporter_key, body, gzip=True)
    assert r.status_code == 413
    assert stored(world) == 0
    assert Upload.objects.for_org(world.reporter_a).count() == 0


def test_it_rejects_a_line_that_is_too_long(world: Any, reporter_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "MAX_LINE_BYTES", 2000)
    r = post(reporter_key, nd(good(1), good(2, transcript="x" * 5000), good(3)))
    reject = only_reject(r)
    assert reject["line"] == 2
    assert "longer than" in reject["reason"]
    assert r.json()["accepted"] == 2


def test_it_offers_every_reject_for_download(world: Any, reporter_key: str, as_user: Any) -> None:
    rows = [good(i, called_number="123") for i in range(30)]
    r = post(reporter_key, nd(*rows))
    body = r.json()
    assert body["rejected"] == 30 and len(body["rejects"]) == conf.INLINE_REJECTS
    download = as_user(world.rita).get(body["rejects_url"])
    assert download.status_code == 200
    lines = b"".join(download.streaming_content).splitlines()
    assert len(lines) == 30


def test_it_rejects_a_nul_character_naming_the_line_and_field(world: Any, reporter_key: str) -> None:
    # PostgreSQL text cannot hold NUL: it used to fail the whole upload with a server error.
    r = post(reporter_key, nd(good(1), good(2, transcript="press 1 \u0000 now"), good(3, caller_name="a\\u0000b")))
    assert r.status_code == 202
    reject = only_reject(r)
    assert (reject["line"], reject["field"]) == (2, "transcript")
    assert "NUL" in reject["reason"]
    assert r.json()["accepted"] == 2  # line 3 holds the six characters \u0000, not a NUL
    assert stored(world) == 2
