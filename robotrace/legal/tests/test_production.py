from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.legal import queries, services
from robotrace.legal.models import Production
from robotrace.legal.packaging import verify_zip
from robotrace.legal.tests.conftest import file, fresh_login, stale_login
from robotrace.legal.uploads import full_path


def _produced(world, chain, **kw):
    req = file(world, targets=[{"kind": "phone", "value": "+19195550142"}, {"kind": "campaign", "value": f"C-{chain.campaign.pk}"}], **kw)
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept")
    return req, services.create_production(actor=world.alice, organisation=world.consortium, request=req)


def _zip(prod):
    return zipfile.ZipFile(io.BytesIO(full_path(prod.zip_path).read_bytes()))


def test_it_assembles_a_production_with_every_hop_and_a_matching_manifest(world, chain):
    req, prod = _produced(world, chain)
    req.refresh_from_db()
    assert req.status == "produced" and req.produced_at is not None
    data = full_path(prod.zip_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == prod.sha256
    assert verify_zip(data) == []
    zf = _zip(prod)
    names = {n.split("/", 1)[1] for n in zf.namelist()}
    assert {"tracebacks.csv", "traceback_hops.csv", "providers.csv", "originating_customers.csv", "call_reports.csv", "campaigns.csv",
            "summary.pdf", "CERTIFICATION.txt", "MANIFEST.sha256"} <= names
    folder = zf.namelist()[0].split("/")[0]
    for line in zf.read(f"{folder}/MANIFEST.sha256").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(zf.read(f"{folder}/{name}")).hexdigest() == digest
        assert prod.manifest["files"][name] == digest
    hops = list(csv.DictReader(io.StringIO(zf.read(f"{folder}/traceback_hops.csv").decode())))
    assert len(hops) == 9  # three calls, three hops each
    assert {h["provider"] for h in hops} == {p.name for p in chain.providers}
    providers = list(csv.DictReader(io.StringIO(zf.read(f"{folder}/providers.csv").decode())))
    assert {"abuse@ov.example"} <= {p["contact_email"] for p in providers}
    reports = list(csv.DictReader(io.StringIO(zf.read(f"{folder}/call_reports.csv").decode())))
    assert len(reports) == 3
    cert = zf.read(f"{folder}/CERTIFICATION.txt").decode()
    assert "902(11)" in cert and "1746" in cert and "regularly conducted activity" in cert
    assert zf.read(f"{folder}/summary.pdf").startswith(b"%PDF-")


def test_it_produces_only_targets_marked_produce(world, chain):
    req = file(world, targets=[{"kind": "phone", "value": "+19195550142"}, {"kind": "campaign", "value": f"C-{chain.campaign.pk}"}])
    phone, campaign = req.targets.order_by("kind")  # campaign < phone alphabetically
    phone, campaign = (phone, campaign) if phone.kind == "phone" else (campaign, phone)
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="narrow", note="Campaign data is out of scope.",
                    target_decisions={phone.pk: "do_not_produce", campaign.pk: "produce"})
    prod = services.create_production(actor=world.alice, organisation=world.consortium, request=req)
    assert prod.campaign_ids == [chain.campaign.pk]
    rejected = file(world, case_number="R-1")
    services.decide(actor=world.alice, organisation=world.consortium, request=rejected, decision="reject", note="No jurisdiction")
    with pytest.raises(services.LegalError):
        services.create_production(actor=world.alice, organisation=world.consortium, request=rejected)


def test_it_asks_for_a_fresh_login_before_a_download_and_audits_it(world, chain, as_user):
    _, prod = _produced(world, chain)
    client = stale_login(as_user(world.dana))
    url = reverse("legal:production_download", args=[prod.pk])
    response = client.get(url)
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    fresh_login(client)
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == prod.sha256
    prod.refresh_from_db()
    assert prod.download_count == 1
    assert AuditEvent.objects.filter(action="legal.production.download", object_id=str(prod.pk), outcome="success", actor_user=world.dana).exists()
    client.get(reverse("legal:production", args=[prod.pk]))
    assert AuditEvent.objects.filter(action="legal.production.viewed", object_id=str(prod.pk)).exists()


def test_it_answers_410_after_expiry(world, chain, as_user):
    _, prod = _produced(world, chain)
    Production.objects.for_org(world.consortium).filter(pk=prod.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client = as_user(world.dana)
    fresh_login(client)
    assert client.get(reverse("legal:production_download", args=[prod.pk])).status_code == 410
    assert client.get(reverse("legal:production", args=[prod.pk])).status_code == 410
    assert AuditEvent.objects.filter(action="legal.production.download", outcome="denied").exists()


def test_it_purges_expired_files_except_under_a_hold(world, chain):
    _, prod = _produced(world, chain)
    _, held_prod = _produced(world, chain, case_number="H-2")
    hold_req = file(world, type="preservation", case_number="P-9", targets=[{"kind": "campaign", "value": f"C-{chain.campaign.pk}"}])
    assert hold_req.holds.count() == 1
    # Only the first production is not covered: give it a target nobody holds.
    Production.objects.for_org(world.consortium).update(expires_at=timezone.now() - timedelta(days=1))
    from robotrace.legal.models import LegalTarget

    LegalTarget.objects.for_org(world.consortium).filter(request=prod.request, kind="campaign").delete()
    assert services.purge_expired_productions() == 1
    prod.refresh_from_db()
    held_prod.refresh_from_db()
    assert prod.purged_at is not None and not full_path(prod.zip_path).exists()
    assert held_prod.purged_at is None and full_path(held_prod.zip_path).exists()


def test_it_reports_held_records_to_other_apps(world, chain):
    tb = chain.tracebacks[0]
    report = chain.reports[0]
    assert not queries.is_held("traceback", tb.pk)
    assert not queries.is_held("call_report", report.pk)
    req = file(world, type="preservation", targets=[{"kind": "phone", "value": "+19195550142"}])
    assert queries.is_held("phone", "+19195550142")
    assert queries.is_held("traceback", tb.pk)
    assert queries.is_held("call_report", report.pk)
    assert not queries.is_held("campaign", chain.campaign.pk)
    hold = req.holds.get()
    services.release_hold(actor=world.alice, organisation=world.consortium, hold=hold, reason="letter withdrawn")
    assert not queries.is_held("traceback", tb.pk)


def test_it_renews_a_hold_for_another_90_days(world):
    req = file(world, type="preservation")
    hold = req.holds.get()
    before = hold.expires_at
    hold = services.renew_hold(actor=world.dana, organisation=world.agency_a, hold=hold)
    assert hold.renewals == 1 and (hold.expires_at - before).days == 90
    with pytest.raises(services.NotAllowed):
        services.renew_hold(actor=world.omar, organisation=world.agency_b, hold=hold)


def test_it_lets_the_agency_open_produced_campaigns_and_tracebacks(world, chain):
    from robotrace.campaigns.models import Campaign
    from robotrace.tracebacks.models import Traceback

    assert not Campaign.objects.for_org(world.agency_a).filter(pk=chain.campaign.pk).exists()
    _produced(world, chain)
    assert Campaign.objects.for_org(world.agency_a).filter(pk=chain.campaign.pk).exists()
    assert Traceback.objects.for_org(world.agency_a).filter(pk=chain.tracebacks[0].pk).exists()
    assert not Campaign.objects.for_org(world.agency_b).filter(pk=chain.campaign.pk).exists()
    assert not Traceback.objects.for_org(world.agency_b).filter(pk=chain.tracebacks[0].pk).exists()
