"""One upload's cost is bounded: lines, rejects and decoded bytes (#20 finding 5).

A 30 KB gzip body of ten million `{}` lines wrote a 1 GB rejects file, and 255 KB of gzipped
newlines took two minutes of CPU. Both are refused now, with nothing stored."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from django.conf import settings

from robotrace.ingest import conf
from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.tests.conftest import good, nd, post


def _nothing_stored(world: Any) -> None:
    assert CallReport.objects.for_org(world.reporter_a).count() == 0
    assert not Upload.objects.for_org(world.reporter_a).exists()
    rejects = Path(settings.MEDIA_ROOT) / "ingest" / "rejects"
    assert not rejects.exists() or not any(rejects.rglob("*.ndjson"))


def test_ten_million_empty_objects_are_refused_at_the_rejects_limit(world: Any, reporter_key: str) -> None:
    body = gzip.compress(b"{}\n" * 10_000_000, compresslevel=9)
    assert len(body) < 40_000
    r = post(reporter_key, body, HTTP_CONTENT_ENCODING="gzip")
    assert r.status_code == 422, r.content
    problem = r.json()
    assert problem["title"] == "Too many rejected lines"
    assert f"more than {conf.MAX_REJECTS:,} lines were rejected" in problem["detail"]
    assert problem["errors"][0]["line"] == 1 and "source_report_id" in problem["errors"][0]["reason"]
    _nothing_stored(world)


def test_a_body_of_newlines_is_refused_at_the_line_limit(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(conf, "MAX_LINES", 100_000)
    body = gzip.compress(b"\n" * 50_000_000, compresslevel=9)
    r = post(reporter_key, body, HTTP_CONTENT_ENCODING="gzip")
    assert r.status_code == 413, r.content
    assert r.json()["title"] == "Too many lines"
    assert "at most 100,000 lines" in r.json()["detail"]
    _nothing_stored(world)


def test_an_upload_under_the_bounds_is_stored_with_its_rejects(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(conf, "MAX_REJECTS", 2)
    monkeypatch.setattr(conf, "MAX_LINES", 5)
    r = post(reporter_key, nd(good(1), "{}", good(2), "{}", good(3)))
    assert r.status_code == 202, r.content
    assert r.json()["accepted"] == 3 and r.json()["rejected"] == 2


def test_one_reject_over_the_limit_stores_nothing(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(conf, "MAX_REJECTS", 2)
    r = post(reporter_key, nd(good(1), "{}", "{}", good(2), "{}"))
    assert r.status_code == 422
    _nothing_stored(world)


def test_one_line_over_the_limit_stores_nothing(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(conf, "MAX_LINES", 3)
    r = post(reporter_key, nd(good(1), good(2), good(3), good(4)))
    assert r.status_code == 413
    _nothing_stored(world)
