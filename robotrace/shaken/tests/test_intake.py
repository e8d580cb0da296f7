"""Reports with an Identity header are verified in the background and stored searchable."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.shaken import queries, services
from robotrace.shaken.models import ShakenCursor, ShakenVerification
from robotrace.shaken.signing import sign_passport
from robotrace.shaken.tests.helpers import provider, report


def _signed(spc: str, at: dt.datetime, attest: str = "A", fault: str | None = None, orig: str = "+12025550143") -> str:
    return sign_passport(spc, orig, "+19195550100", attest, "5d3c1a2b-0000-4000-8000-000000000001", int(at.timestamp()), fault=fault)


def test_it_verifies_an_upload_when_reports_are_stored(world, shaken_var):
    from robotrace.ingest.models import Upload
    from robotrace.ingest.signals import reports_stored

    signer = provider("Keystone Voice", spc="KV01")
    at = timezone.now() - dt.timedelta(hours=2)
    upload = Upload.objects.create(reporter=world.reporter_a, source=Upload.Source.API, format="json")
    good = report(world.reporter_a, identity=_signed("KV01", at), at=at, upload=upload)
    unsigned = report(world.reporter_a, at=at, upload=upload)
    reports_stored.send(sender=None, upload_id=upload.id, reporter_id=world.reporter_a.id, accepted=2)  # Huey runs immediately in tests

    row = ShakenVerification.objects.unscoped(reason="test").get(report_id=good.id)
    assert row.verified and row.sip_code == 200 and row.outcome == "valid"
    assert (row.attest, row.signer_spc, row.signer_provider_id, row.signer_source) == ("A", "KV01", signer.id, "registry")
    assert row.origid == "5d3c1a2b-0000-4000-8000-000000000001" and row.delta_seconds == 0
    assert row.layers["signature"]["status"] == "passed"
    assert not ShakenVerification.objects.unscoped(reason="test").filter(report_id=unsigned.id).exists()
    assert AuditEvent.objects.filter(action="shaken.reports_verified").exists()


def test_it_catches_up_from_a_durable_cursor(world, shaken_var):
    at = timezone.now() - dt.timedelta(hours=1)
    r1 = report(world.reporter_a, identity=_signed("NG02", at, fault="bad_signature"), at=at)
    r2 = report(world.reporter_b, identity=_signed("NG02", at, fault="expired_certificate"), at=at)
    report(world.reporter_b, at=at)
    assert services.catch_up_all() == 2
    assert ShakenCursor.objects.get(name=services.CURSOR).last_report_id >= r2.id
    rows = {v.report_id: v for v in ShakenVerification.objects.unscoped(reason="test").all()}
    assert rows[r1.id].outcome == "invalid_signature" and rows[r1.id].sip_code == 438
    assert rows[r2.id].outcome == "certificate_fault" and rows[r2.id].sip_code == 437
    assert services.catch_up_all() == 0  # nothing new past the cursor


def test_it_stores_stale_untrusted_and_spoofed_outcomes(world, shaken_var):
    at = timezone.now() - dt.timedelta(hours=1)
    stale = report(world.reporter_a, identity=_signed("KV01", at, fault="stale"), at=at)
    rogue = report(world.reporter_a, identity=_signed("KV01", at, fault="untrusted"), at=at)
    spoof = report(world.reporter_a, identity=_signed("KV01", at, orig="+13125550000"), at=at)
    services.verify_reports(report_ids=[stale.id, rogue.id, spoof.id])
    got = {v.report_id: v for v in ShakenVerification.objects.unscoped(reason="test").all()}
    assert (got[stale.id].outcome, got[stale.id].sip_code) == ("stale", 403)
    assert (got[rogue.id].outcome, got[rogue.id].sip_code) == ("untrusted", 438)
    assert got[spoof.id].outcome == "tn_mismatch" and got[spoof.id].orig_mismatch and got[spoof.id].signature_valid


def test_it_stores_garbage_headers_as_failed_verdicts(world, shaken_var):
    at = timezone.now() - dt.timedelta(hours=1)
    bad = report(world.reporter_a, identity="a.b.c;info=<https://127.0.0.1/x>", at=at)
    assert services.verify_reports(report_ids=[bad.id]) == 1
    row = ShakenVerification.objects.unscoped(reason="test").get(report_id=bad.id)
    assert not row.verified and row.outcome == "malformed"


def test_reverifying_replaces_the_row(world, shaken_var):
    at = timezone.now() - dt.timedelta(hours=1)
    r = report(world.reporter_a, identity=_signed("KV01", at), at=at)
    services.verify_reports(report_ids=[r.id])
    services.verify_reports(report_ids=[r.id])
    assert ShakenVerification.objects.unscoped(reason="test").filter(report_id=r.id).count() == 1


def test_it_resolves_the_signer_through_the_imported_directory(world, shaken_var):
    p = provider("Socket Telecom LLC")
    services.import_ocn_directory(actor=None, text='OCN,Org Name,CN,Cert\n"554a","Socket Telecom LLC","SHAKEN 554A","https://x.example/a.pem"\n')
    at = timezone.now() - dt.timedelta(hours=1)
    r = report(world.reporter_a, identity=_signed("554A", at), at=at)
    services.verify_reports(report_ids=[r.id])
    row = ShakenVerification.objects.unscoped(reason="test").get(report_id=r.id)
    assert (row.signer_provider_id, row.signer_source) == (p.id, "directory")


def test_it_searches_by_spc_provider_verdict_and_attest(world, shaken_var):
    kv = provider("Keystone Voice", spc="KV01")
    at = timezone.now() - dt.timedelta(hours=1)
    a = report(world.reporter_a, identity=_signed("KV01", at, "A"), at=at)
    c = report(world.reporter_a, identity=_signed("NG02", at, "C"), at=at)
    bad = report(world.reporter_a, identity=_signed("NG02", at, "B", fault="bad_signature"), at=at)
    services.verify_reports(report_ids=[a.id, c.id, bad.id])
    org = world.consortium
    assert [v.report_id for v in queries.search(org, spc="kv01")] == [a.id]
    assert [v.report_id for v in queries.search(org, provider=str(kv.id))] == [a.id]
    assert [v.report_id for v in queries.search(org, provider="keystone")] == [a.id]
    assert {v.report_id for v in queries.search(org, outcome="verified")} == {a.id, c.id}
    assert [v.report_id for v in queries.search(org, outcome="invalid_signature")] == [bad.id]
    assert [v.report_id for v in queries.search(org, attest="C")] == [c.id]
    # A reporter sees only its own reports' verdicts; another reporter none of them.
    assert queries.search(world.reporter_b).count() == 0


def test_its_periodic_task_catches_up(world, shaken_var):
    from robotrace.shaken import tasks

    at = timezone.now() - dt.timedelta(hours=1)
    r = report(world.reporter_a, identity=_signed("KV01", at), at=at)
    assert tasks.catch_up.call_local() == 1
    assert ShakenVerification.objects.unscoped(reason="test").filter(report_id=r.id, verified=True).exists()
    assert tasks.catch_up.call_local() == 0
