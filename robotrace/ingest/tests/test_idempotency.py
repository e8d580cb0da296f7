from __future__ import annotations

from typing import Any

import pytest

from robotrace.ingest import conf, services
from robotrace.ingest.models import CallReport, Upload
from robotrace.ingest.signals import reports_stored
from robotrace.ingest.tests.conftest import good, nd, post


def test_it_replays_the_first_answer_for_the_same_idempotency_key(world: Any, reporter_key: str) -> None:
    body = nd(good(1), good(2), good(3, called_number="x"))
    first = post(reporter_key, body, HTTP_IDEMPOTENCY_KEY="batch-42")
    again = post(reporter_key, body, HTTP_IDEMPOTENCY_KEY="batch-42")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Upload.objects.for_org(world.reporter_a).count() == 1
    assert CallReport.objects.for_org(world.reporter_a).count() == 2


def test_it_counts_resent_reports_as_duplicates(world: Any, reporter_key: str) -> None:
    post(reporter_key, nd(good(1), good(2)))
    r = post(reporter_key, nd(good(2), good(3), good(3)))
    assert (r.json()["accepted"], r.json()["duplicates"]) == (1, 2)
    assert CallReport.objects.for_org(world.reporter_a).count() == 3


def test_it_counts_duplicates_across_batches_of_one_upload(world: Any, reporter_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "BATCH_SIZE", 2)
    r = post(reporter_key, nd(good(1), good(2), good(3), good(1), good(4), good(2)))
    assert (r.json()["accepted"], r.json()["duplicates"]) == (4, 2)


def test_it_lets_two_reporters_use_the_same_source_ids(world: Any, reporter_key: str, api_key: Any) -> None:
    other = api_key(world.reporter_b, ["ingest"])
    post(reporter_key, nd(good(1)))
    r = post(other, nd(good(1)))
    assert r.json()["accepted"] == 1


def test_it_stores_nothing_when_a_write_fails_midway(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "BATCH_SIZE", 2)
    with pytest.raises(RuntimeError, match="forced failure"):
        services.receive(organisation=world.reporter_a, actor=None, chunks=[nd(*(good(i) for i in range(7)))], fmt="ndjson", fail_after_batches=2)
    assert CallReport.objects.for_org(world.reporter_a).count() == 0
    assert Upload.objects.for_org(world.reporter_a).count() == 0


def test_it_sends_reports_stored_only_after_commit(world: Any, reporter_key: str, django_capture_on_commit_callbacks: Any) -> None:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    reports_stored.connect(receiver, dispatch_uid="test-receiver")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            r = post(reporter_key, nd(good(1), good(2)))
        assert received == []  # not before the commit
        for callback in callbacks:
            callback()
        assert len(received) == 1
        assert received[0]["upload_id"] == r.json()["upload_id"]
        assert received[0]["reporter_id"] == world.reporter_a.id
        assert received[0]["accepted"] == 2
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            post(reporter_key, nd(good(1)))  # all duplicates: nothing new to announce
        assert callbacks == [] and len(received) == 1
    finally:
        reports_stored.disconnect(dispatch_uid="test-receiver")


def test_it_writes_an_audit_event_per_upload(world: Any, reporter_key: str) -> None:
    from robotrace.audit.models import AuditEvent

    r = post(reporter_key, nd(good(1)))
    event = AuditEvent.objects.filter(action="ingest.upload").get()
    assert event.object_id == str(r.json()["upload_id"])
    assert event.data["accepted"] == 1
    assert event.subject_org_id == world.reporter_a.id


def test_it_flags_called_numbers_on_a_loaded_dnc_list(world: Any, reporter_key: str) -> None:
    from robotrace.ingest import dnc

    assert dnc.load_numbers(["(919) 332-4567", "not a number"]) == 1
    post(reporter_key, nd(good(1), good(2, called_number="919-332-9999")))
    flags = dict(CallReport.objects.for_org(world.reporter_a).values_list("source_report_id", "is_called_number_dnc"))
    assert flags == {"r-1": True, "r-2": False}


@pytest.mark.django_db(transaction=True)
def test_an_upload_syncs_the_wal_after_its_commit_and_before_it_answers(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 202 means durable: the embedded default (WAL, synchronous=NORMAL) can lose the last
    commits on power loss, so the upload fsyncs the WAL once it has committed, outside
    SQLite's write lock."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL commits are synced as they are")
    seen: list[tuple[bool, int]] = []
    monkeypatch.setattr(services, "sync_wal", lambda: seen.append((connection.in_atomic_block, Upload.objects.for_org(world.reporter_a).count())))
    upload = services.receive(organisation=world.reporter_a, actor=None, chunks=[nd(good(1), good(2))], fmt="ndjson")
    assert upload.accepted == 2
    assert seen == [(False, 1)]  # once, after the commit (the upload is there, no transaction open)
    with pytest.raises(RuntimeError):
        services.receive(organisation=world.reporter_a, actor=None, chunks=[nd(good(3))], fmt="ndjson", fail_after_batches=1)
    assert len(seen) == 1  # rolled back: nothing to sync


def test_sync_wal_fsyncs_the_database_s_wal_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sqlite3

    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    db = tmp_path / "embedded.sqlite3"
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE TABLE t (x)")
    raw.execute("INSERT INTO t VALUES (1)")
    raw.commit()

    class Wrapper:  # the two PRAGMAs sync_wal asks, answered by the file-backed connection
        def cursor(self) -> Any:
            from contextlib import closing

            return closing(raw.cursor())

    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(services, "connection", Wrapper())
    monkeypatch.setattr(services.os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))  # type: ignore[func-returns-value]  # note the path, then sync
    services.sync_wal()
    assert synced == [f"{db}-wal"] and os.path.getsize(synced[0]) > 0
    raw.close()
