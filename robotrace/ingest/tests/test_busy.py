"""SQLite's busy lock at intake answers 503 with Retry-After, not 500 (#20 finding 10)."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError

from robotrace.ingest import services
from robotrace.ingest.tests.conftest import good, nd, post


def test_a_busy_database_answers_503_with_retry_after(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    def locked(**kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "receive", locked)
    r = post(reporter_key, nd(good(1)))
    assert r.status_code == 503
    assert r["Retry-After"] == "5"
    assert "nothing was stored" in r.content.decode()


def test_other_database_errors_are_not_disguised(world: Any, reporter_key: str, monkeypatch: Any) -> None:
    import pytest

    def broken(**kwargs: Any) -> None:
        raise OperationalError("no such table: ingest_callreport")

    monkeypatch.setattr(services, "receive", broken)
    with pytest.raises(OperationalError):
        post(reporter_key, nd(good(1)))
